"""The FastAPI application: ``create_app()`` wires settings, clock, database and identity into one
app with a router per resource and the server-rendered pages.

Routes stay thin: each checks the caller's role through a dependency, calls the same domain
function the CLI calls and lets VigilErrors become 4xx responses in ``vigil.http.errors``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

import vigil
from vigil.app.context import AppContext, HistorySource, IncidentSource, SurfaceSource
from vigil.app.evaluation_plan import plan_on_open
from vigil.app.history import store_history_source, store_incident_source
from vigil.app.surfaces import latest_surface_source
from vigil.cases.policy import load_policy
from vigil.clock import Clock, SystemClock
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.identity import IdentityProvider, IdentityStore, LocalIdentityProvider
from vigil.http import errors
from vigil.http.background import sweeper
from vigil.identity.pool import HashPool
from vigil.impact.case_service import case_service as case_service_for
from vigil.settings import Settings, get_settings

WEB_DIR = Path(__file__).resolve().parent / "web"


def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as leaflet

    return Path(leaflet.BASE_DIR)


def _oidc_client(settings: Settings, clock: Clock):  # type: ignore[no-untyped-def]
    """The identity provider's client when ``oidc_issuer`` is set; its claims mapping is
    validated now, so a bad file stops the start rather than the first sign-in."""
    if not settings.oidc_issuer:
        return None
    from vigil.http.oidc import OidcClient, OidcConfig
    from vigil.identity.claims import ClaimsMappingError, load_claims_mapping

    if settings.oidc_claims_map is None or not settings.oidc_client_id:
        raise ClaimsMappingError(
            "VIGIL_OIDC_ISSUER is set: VIGIL_OIDC_CLIENT_ID and VIGIL_OIDC_CLAIMS_MAP are "
            "needed too"
        )
    load_claims_mapping(settings.oidc_claims_map)
    config = OidcConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        redirect_uri=settings.oidc_redirect_uri,
        max_skew=settings.oidc_max_skew,
    )
    return OidcClient(config, clock)


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    session_factory: sessionmaker[Session] | None = None,
    *,
    surface_source: SurfaceSource | None = None,
    history_source: HistorySource | None = None,
    incident_source: IncidentSource | None = None,
    identity_provider: IdentityProvider | None = None,
) -> FastAPI:
    """The web application.

    Without ``session_factory`` the app opens ``settings.resolved_database_url`` and brings it
    up to every migration head; with one, the caller owns the schema (tests). Pass a FixedClock
    to make expiry testable; set ``settings.enable_test_clock`` to expose the endpoint that
    moves it.
    """
    settings = settings or get_settings()
    clock = clock or SystemClock()
    if settings.mode == "production":
        from vigil.audit.signing import signer_from_settings

        signer_from_settings(settings)  # refuses to start without a real signing key
    if session_factory is None:
        from vigil.db import migrate

        url = settings.resolved_database_url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        migrate.upgrade(url)
        session_factory = make_sessionmaker(make_engine(url))
    identity = IdentityStore(
        session_factory,
        clock,
        token_lifetime=timedelta(hours=settings.token_hours),
        token_max_lifetime=timedelta(hours=max(settings.token_hours, settings.token_max_hours)),
    )
    # the evaluation plan is declared when a case opens, against what the evaluation can
    # detect on the store's incident history (vigil.app.evaluation_plan)
    case_service = case_service_for(
        session_factory,
        clock,
        load_policy(settings.policy_file),
        on_open=plan_on_open(incident_source or store_incident_source(settings.store_dir)),
    )
    oidc = _oidc_client(settings, clock)
    ctx = AppContext(
        settings=settings,
        clock=clock,
        session_factory=session_factory,
        identity=identity,
        provider=identity_provider or LocalIdentityProvider(identity),
        cases=case_service,
        surface_source=surface_source or latest_surface_source(settings.data_dir),
        history_source=history_source or store_history_source(settings.store_dir),
        signin_pool=HashPool(settings.signin_workers or None),
        oidc=oidc,
    )

    app = FastAPI(
        # expiries, overdue debriefs and checkpoints, in one process at a time
        # (vigil.http.background); a FixedClock (tests) moves only when told, so no sweeper
        lifespan=sweeper(ctx, settings.sweep_seconds) if isinstance(clock, SystemClock) else None,
        # Swagger UI and ReDoc load their scripts from a CDN, which a force network cannot
        # reach: the schema itself is at /openapi.json
        docs_url=None,
        redoc_url=None,
        title="Vigil",
        version=vigil.__version__,
        description=(
            "Accountable, time-limited, intelligence-led patrol deployments. Authenticate "
            "with `Authorization: Bearer <token>` (create one with `vigil users token`)."
        ),
    )
    app.state.ctx = ctx
    from vigil.web import helpers

    templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    templates.env.globals["app_title"] = "Vigil"
    helpers.install(templates.env, ctx.cases.policy)
    app.state.templates = templates
    errors.install(app)

    app.mount("/static/leaflet", StaticFiles(directory=_leaflet_dir()), name="leaflet")
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    from vigil.api.routers import (
        audit,
        auth,
        cases,
        evaluation,
        forecasts,
        health,
        impact,
        incidents,
        reports,
        testing,
        users,
    )
    from vigil.web import pages

    app.include_router(health.router)
    from vigil.web import oidc as oidc_routes

    app.include_router(oidc_routes.router)
    for module in (auth, users, incidents, forecasts, cases, impact, evaluation, audit, reports):
        app.include_router(module.router)
    if settings.enable_test_clock:
        app.include_router(testing.router)
    app.include_router(pages.router)
    install_middleware(app, settings)
    from vigil.http.routing import memoise_route_versions

    memoise_route_versions(app.router)
    return app


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """The layers every request passes through, outermost last: the body cap runs before
    anything reads the body; the security headers go on every answer, the cap's 413 too."""
    from vigil.http.middleware_headers import SecurityHeadersMiddleware
    from vigil.http.middleware_limits import BodyLimitMiddleware
    from vigil.http.observability import ObservabilityMiddleware, count_audit_appends

    app.add_middleware(
        BodyLimitMiddleware,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookie_secure)
    app.add_middleware(ObservabilityMiddleware)
    count_audit_appends()


def served_app() -> FastAPI:
    """The app as ``vigil serve`` runs it in each worker process: JSON request logs, settings
    from the environment (uvicorn imports this by name, ``factory=True``)."""
    from vigil.http.observability import configure_logging

    configure_logging()
    return create_app()
