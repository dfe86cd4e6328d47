"""Reference server for `make bench`.

fastapi-users' official "Full example" for SQLAlchemy (docs/configuration/
full-example.md, i.e. examples/sqlalchemy/app/{db,schemas,users,app}.py in
github.com/fastapi-users/fastapi-users at v15.0.5), folded into one module.
The only changes from upstream:
  * DATABASE_URL's file comes from $REFERENCE_DB (default ./reference.db)
    instead of the hard-coded ./test.db;
  * SECRET comes from $REFERENCE_SECRET; the default is a 32+ byte constant
    rather than upstream's "SECRET" only so that PyJWT (2.15 here) does not emit
    InsecureKeyLengthWarning on stderr (HS256 cost is the same);
  * the three upstream modules are concatenated (imports merged).

Run:  uvicorn app:app --app-dir bench/reference --port 8765

Routes used by the bench:
  POST /auth/register    JSON {"email", "password"}            -> 201
  POST /auth/jwt/login   form username=<email>&password=...    -> 200 {"access_token", "token_type"}
  GET  /users/me         Authorization: Bearer <token>          -> 200

Password hashing is left exactly as fastapi-users ships it:
fastapi_users.password.PasswordHelper() = pwdlib.PasswordHash((Argon2Hasher(),
BcryptHasher())) with pwdlib 0.3.0's Argon2Hasher defaults, which are
argon2-cffi's defaults (RFC 9106 "low memory" profile):
  argon2id, version 19, time_cost t=3, memory_cost m=65536 KiB (64 MiB),
  parallelism p=4, hash_len 32, salt_len 16
  -> hashes look like $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>
Bcrypt is only there to verify (and upgrade) legacy hashes.
Login (and register) therefore each cost one Argon2id hash/verify;
/users/me costs one JWT (HS256) decode plus one SQLite SELECT.
"""

import os
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, models, schemas
from fastapi_users.authentication import (
    AuthenticationBackend,
    BearerTransport,
    JWTStrategy,
)
from fastapi_users.db import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

# --- app/db.py ---------------------------------------------------------------

DATABASE_URL = "sqlite+aiosqlite:///" + os.environ.get("REFERENCE_DB", "./reference.db")


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


engine = create_async_engine(DATABASE_URL)
async_session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def create_db_and_tables():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def get_async_session() -> AsyncGenerator[AsyncSession, None]:
    async with async_session_maker() as session:
        yield session


async def get_user_db(session: AsyncSession = Depends(get_async_session)):
    yield SQLAlchemyUserDatabase(session, User)


# --- app/schemas.py ----------------------------------------------------------


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


# --- app/users.py ------------------------------------------------------------

SECRET = os.environ.get("REFERENCE_SECRET", "SECRET-reference-bench-not-for-production-use")


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET

    async def on_after_register(self, user: User, request: Request | None = None):
        print(f"User {user.id} has registered.")

    async def on_after_forgot_password(
        self, user: User, token: str, request: Request | None = None
    ):
        print(f"User {user.id} has forgot their password. Reset token: {token}")

    async def on_after_request_verify(
        self, user: User, token: str, request: Request | None = None
    ):
        print(f"Verification requested for user {user.id}. Verification token: {token}")


async def get_user_manager(user_db: SQLAlchemyUserDatabase = Depends(get_user_db)):
    yield UserManager(user_db)


bearer_transport = BearerTransport(tokenUrl="auth/jwt/login")


def get_jwt_strategy() -> JWTStrategy[models.UP, models.ID]:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600)


auth_backend = AuthenticationBackend(
    name="jwt",
    transport=bearer_transport,
    get_strategy=get_jwt_strategy,
)

fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])

current_active_user = fastapi_users.current_user(active=True)


# --- app/app.py --------------------------------------------------------------


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Not needed if you setup a migration system like Alembic
    await create_db_and_tables()
    yield


app = FastAPI(lifespan=lifespan)

app.include_router(
    fastapi_users.get_auth_router(auth_backend), prefix="/auth/jwt", tags=["auth"]
)
app.include_router(
    fastapi_users.get_register_router(UserRead, UserCreate),
    prefix="/auth",
    tags=["auth"],
)
app.include_router(
    fastapi_users.get_reset_password_router(),
    prefix="/auth",
    tags=["auth"],
)
app.include_router(
    fastapi_users.get_verify_router(UserRead),
    prefix="/auth",
    tags=["auth"],
)
app.include_router(
    fastapi_users.get_users_router(UserRead, UserUpdate),
    prefix="/users",
    tags=["users"],
)


@app.get("/authenticated-route")
async def authenticated_route(user: User = Depends(current_active_user)):
    return {"message": f"Hello {user.email}!"}
