"""Writers of one process take turns on a lock before SQLite's write lock; a unit of work that
fails, at any point, gives its turn back (otherwise the next writer would wait 30 s and fail)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy.exc import IntegrityError

from scholia.core import identity
from scholia.core.models import User
from scholia.core.runtime import Runtime


def rename(runtime: Runtime, user: User, name: str) -> None:
    with runtime.session() as session:
        me = session.get(User, user.id)
        assert me is not None
        me.display_name = name
        session.add(me)


def test_an_error_inside_a_unit_of_work_gives_back_the_write_turn(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    user = make_user()
    with pytest.raises(ValueError, match="changed my mind"), runtime.session() as session:
        session.get(User, user.id)
        raise ValueError("changed my mind")
    rename(runtime, user, "After an error")


def test_a_commit_refused_by_the_database_gives_back_the_write_turn(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    user = make_user(username="taken")
    with pytest.raises(IntegrityError), runtime.session() as session:
        identity.create_user(session, username="other", password="a long password 1", roles=())
        session.flush()
        duplicate = User(username="taken", display_name="x", pseudonym="p-duplicate", roles=[])
        session.add(duplicate)
    rename(runtime, user, "After a refused commit")


def test_concurrent_writers_all_get_their_turn(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    users = [make_user() for _ in range(6)]
    errors: list[BaseException] = []

    def work(user: User) -> None:
        try:
            for n in range(15):
                rename(runtime, user, f"{user.username} {n}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with runtime.reading() as session:
        for user in users:
            assert session.get(User, user.id).display_name == f"{user.username} 14"  # type: ignore[union-attr]
