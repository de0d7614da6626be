# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules every check shares (pure): rates, KPI targets, and how checks make a control's status."""

from fractions import Fraction

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "not_applicable"
STATUSES = (PASS, FAIL, NOT_APPLICABLE)


def rate(good, total):
    """``good / total`` in percent, rounded to 2 decimals for display; None when ``total`` is 0."""
    if total <= 0:
        return None
    return round(100.0 * good / total, 2)


def meets(good, total, target_pct):
    """Whether ``good / total`` reaches ``target_pct`` percent, computed exactly (99 999 of 100 000 runs is not
    100 %, although it rounds to it). False when nothing was counted."""
    if total <= 0:
        return False
    return Fraction(good) * 100 >= Fraction(str(target_pct)) * total


def check_target(value, name):
    """A KPI target must be a percentage in [0, 100]; raises ValueError."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("kpis.%s %r is not a number" % (name, value))
    if not 0.0 <= number <= 100.0:
        raise ValueError("kpis.%s %s is not a percentage between 0 and 100" % (name, value))
    return number


def control_status(statuses):
    """A control fails when one of its checks fails, is not applicable when none had evidence, else passes."""
    statuses = list(statuses)
    if not statuses or any(s not in STATUSES for s in statuses):
        raise ValueError("bad check statuses %r" % (statuses,))
    if FAIL in statuses:
        return FAIL
    if all(s == NOT_APPLICABLE for s in statuses):
        return NOT_APPLICABLE
    return PASS


def finish(check, status, reason):
    check["status"], check["reason"] = status, reason
    return check


def not_applicable(check, reason):
    return finish(check, NOT_APPLICABLE, reason)


def by_rate(check, good, total, target, what):
    """Pass when ``good / total`` meets ``target`` percent; sets the KPI's achieved value and the reason."""
    check["kpi"]["achieved"] = rate(good, total)
    text = "%s: %d of %d (%s %%, target %s %%)" % (what, good, total, check["kpi"]["achieved"], target)
    return finish(check, PASS if meets(good, total, target) else FAIL, text)
