"""The ignore list: every entry has an id, a package, a reason and a date, and a bad entry is named."""

from datetime import date

import pytest

from callcenterai.config import PROJECT_ROOT
from callcenterai.errors import UserError
from callcenterai.security.ignore_list import load_ignore_list

from .conftest import SESSION_VERIFY, ignore_entry

COMMITTED_LIST = PROJECT_ROOT / "security" / "vulnerability-ignore.toml"


def test_entries_are_read_with_their_dates(write_ignore_list):
    [entry] = load_ignore_list(
        write_ignore_list(ignore_entry(SESSION_VERIFY, "2026-07-01", package="Requests"))
    )
    assert (entry.id, entry.until) == (SESSION_VERIFY, date(2026, 7, 1))
    assert entry.describes("requests", ("CVE-2024-35195", SESSION_VERIFY))
    assert not entry.describes("requests-toolbelt", (SESSION_VERIFY,))


def test_an_entry_holds_through_its_until_day_and_not_after(write_ignore_list):
    [entry] = load_ignore_list(write_ignore_list(ignore_entry(SESSION_VERIFY, "2026-07-01")))
    assert not entry.expired(date(2026, 7, 1))
    assert entry.expired(date(2026, 7, 2))


@pytest.mark.parametrize(
    "broken, expected",
    [
        ('[[ignore]]\nid = "GHSA-aaaa"\npackage = "requests"\nuntil = 2026-07-01\n', "(GHSA-aaaa): reason"),
        ('[[ignore]]\nid = "GHSA-aaaa"\npackage = "requests"\nreason = "r"\n', "(GHSA-aaaa): until"),
        (ignore_entry("GHSA-aaaa", "2026-07-01", reason="  "), "(GHSA-aaaa): reason"),
        (ignore_entry("GHSA-aaaa", '"next year"'), "(GHSA-aaaa): until"),
        ('[[ignore]]\npackage = "requests"\nreason = "r"\nuntil = 2026-07-01\n', "ignore entry 2: id"),
        (ignore_entry("GHSA-aaaa", "2026-07-01") + 'note = "x"\n', "(GHSA-aaaa): note"),
        (ignore_entry("GHSA-aaaa", "2026-07-01") + ignore_entry("GHSA-aaaa", "2026-08-01"), "listed twice"),
    ],
)
def test_an_invalid_entry_is_an_error_that_names_it(write_ignore_list, broken, expected):
    valid_first = ignore_entry(SESSION_VERIFY, "2026-07-01")
    path = write_ignore_list(valid_first + broken)
    with pytest.raises(UserError, match=expected.replace("(", r"\(").replace(")", r"\)")) as error:
        load_ignore_list(path)
    assert str(path) in str(error.value)


def test_unreadable_toml_and_stray_tables_are_refused(write_ignore_list):
    with pytest.raises(UserError, match="not a readable TOML"):
        load_ignore_list(write_ignore_list("[[ignore]\n"))
    with pytest.raises(UserError, match="only \\[\\[ignore\\]\\] entries"):
        load_ignore_list(write_ignore_list('[ignores]\nid = "x"\n'))


def test_an_empty_list_ignores_nothing(write_ignore_list):
    assert load_ignore_list(write_ignore_list("# nothing reviewed yet\n")) == []


def test_the_committed_ignore_list_is_valid_and_nothing_on_it_has_expired():
    entries = load_ignore_list(COMMITTED_LIST)
    expired = [str(entry) for entry in entries if entry.expired(date.today())]
    assert expired == [], "review these entries or upgrade the packages"
