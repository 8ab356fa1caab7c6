"""reports (wired below)"""

from fastapi import APIRouter

router = APIRouter(prefix="/api/reports", tags=["reports"])
