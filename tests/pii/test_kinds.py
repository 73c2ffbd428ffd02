"""The cheap structured kinds (MAC addresses, passports, short password words), and phones by context."""

from __future__ import annotations

import pytest

from callcenterai.pii.recognizers import MAX_PHONE_CHECKS


def found(scrubber, text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in scrubber.find(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("MAC 00:1A:2B:3C:4D:5E on port 3", [("MAC", "00:1A:2B:3C:4D:5E")]),
        ("adapter a4-5e-60-c2-19-7f.", [("MAC", "a4-5e-60-c2-19-7f")]),
        ("switch shows 001a.2b3c.4d5e", [("MAC", "001a.2b3c.4d5e")]),
        ("passport no. X1234567, travelling", [("PASSPORT", "X1234567")]),
        ("Reisepass-Nr. C01X00T47", [("PASSPORT", "C01X00T47")]),
        ("passeport n° 12AB34567", [("PASSPORT", "12AB34567")]),
        ("my passport number is 123456789", [("PASSPORT", "123456789")]),
        ("VPN pw: Xk9#mP2q", [("CREDENTIAL", "Xk9#mP2q")]),
        ("pwd=hunter22 fails", [("CREDENTIAL", "hunter22")]),
        ("passwd Welcome1 fails", [("CREDENTIAL", "Welcome1")]),
        ("call me on 555-0100", [("PHONE", "555-0100")]),
        ("mobile +1 555 010 0199", [("PHONE", "+1 555 010 0199")]),
        ("555-0142 (whatsapp)", [("PHONE", "555-0142")]),
    ],
)
def test_each_kind_is_found(scrubber, text, expected):
    assert found(scrubber, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "00:1A:2B:3C:4D:5E:6F is seven pairs",
        "meeting at 10:30:45",
        "passport renewal next week",
        "the passport office number is busy",
        "my pw is expired",
        "build 555-0100 of the driver",  # a reserved range, and no phone word near it
    ],
)
def test_look_alikes_are_left(scrubber, text):
    assert found(scrubber, text) == []


def test_an_ipv6_address_is_an_ip_not_a_mac(scrubber):
    assert found(scrubber, "host fe80::1ff:fe23:4567:890a") == [("IP", "fe80::1ff:fe23:4567:890a")]


def test_a_number_word_makes_any_phone_shaped_run_a_phone_number(scrubber):
    """Erring towards redaction: an order number next to "number" goes too."""
    assert found(scrubber, "ticket number 2024 0315 77") == [("PHONE", "2024 0315 77")]


def test_phone_shaped_runs_past_the_checks_are_redacted_unchecked(scrubber):
    """Each is refused by the matcher; past its checks the rest go unchecked, capping the cost."""
    runs = [f"{n}0 555 01{n}9" for n in range(MAX_PHONE_CHECKS + 3)]
    text = "builds " + " and ".join(runs)
    scrubbed = scrubber.scrub(text)
    assert scrubbed.text == "builds " + " and ".join(runs[:MAX_PHONE_CHECKS] + ["<PHONE>"] * 3)
