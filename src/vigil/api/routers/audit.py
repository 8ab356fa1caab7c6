"""audit (wired below)"""

from fastapi import APIRouter

router = APIRouter(prefix="/api/audit", tags=["audit"])
