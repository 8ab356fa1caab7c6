"""incidents (wired below)"""

from fastapi import APIRouter

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
