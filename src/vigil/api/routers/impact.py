"""impact (wired below)"""

from fastapi import APIRouter

router = APIRouter(prefix="/api/impact", tags=["impact"])
