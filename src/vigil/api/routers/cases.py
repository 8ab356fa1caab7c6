"""cases (wired below)"""

from fastapi import APIRouter

router = APIRouter(prefix="/api/cases", tags=["cases"])
