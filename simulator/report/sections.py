"""The report's sections beyond the summary: the decision it opens with, and the
numbers behind the stress, break-even and sensitivity charts (when run). Each section
is paragraphs, tables and notes, rendered for both the HTML and the Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..decide.summary import SimulationResult
from ..scenario.numbers import money, share
from .markup import environment

__all__ = ["Section", "Table", "decision_section", "portfolio_section", "stress_sections"]


@dataclass(frozen=True)
class Table:
    """One table of a section: its caption, header and rows of text."""

    caption: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    code: bool = False  # the first column holds key paths
    text: bool = False  # cells are words, not figures


@dataclass(frozen=True)
class Section:
    """One section of the report, rendered: its anchor, heading, HTML and Markdown."""

    slug: str
    heading: str
    html: str
    markdown: str


def _section(slug: str, heading: str, paragraphs, tables, notes=()) -> Section:
    values = {"paragraphs": list(paragraphs), "tables": list(tables), "notes": list(notes)}
    return Section(
        slug,
        heading,
        environment("html").get_template("section.html.j2").render(values),
        environment("md").get_template("section.md.j2").render(values).strip(),
    )


def stress_sections(result: SimulationResult) -> list[Section]:
    """The numbers behind the stress, break-even and sensitivity charts (when run)."""
    from .words.stress import (
        breakeven_sentences,
        sensitivity_sentence,
        stress_sentence,
    )

    extra = result.extra
    if "stress_method" not in extra or not result.versus:
        return []  # no stress test, or a single option: nothing to compare
    scenario = result.scenario
    currency = scenario.currency
    labels = {n: o.label for n, o in result.options.items()}
    method = extra["stress_method"]
    base = labels[scenario.baseline]
    sections = []

    def cell(entry, key):
        multiplier = entry[f"volume_multiplier_{key}"]
        if multiplier is None:
            text = {
                "cheaper_at_lowest_volume": "already at 0.01x",
                "marginal_cost_not_below_baseline": "never (dearer per request)",
            }.get(entry[f"reason_{key}"], "not by 100x")
            return (text, "-", "-")
        return (
            f"{multiplier:.3g}x",
            f"{entry[f'requests_per_month_{key}']:,.0f}",
            money(entry[f"baseline_monthly_spend_{key}"], currency),
        )

    rows = [(labels[n], *cell(e, "p50"), *cell(e, "p80")) for n, e in extra["breakeven"].items()]
    header = (
        "Option",
        "50% of paths: volume",
        "requests/month",
        "baseline/month",
        "80% of paths: volume",
        "requests/month",
        "baseline/month",
    )
    sections.append(
        _section(
            "breakeven-table",
            "Break-even volume",
            breakeven_sentences(result),
            [Table("", header, rows)],
            [
                "Volume is the multiplier on every path's realized volume (1 is the "
                "forecast; growth as forecast) at which the option is cheaper than "
                f"{base} over {scenario.horizon_months} months on 50% (80%) of paths, "
                "searched within 0.01x to 100x on the same paths to 0.1%. Requests per "
                "month are that multiplier times the median realized volume of the first "
                f"month ({method['first_month_requests_p50']:,.0f} requests); baseline per "
                f"month is {base}'s median cost in the first month at that volume."
            ],
        )
    )

    names = list(result.versus)
    grid_rows = []
    for row in extra["stress"]:
        options = row["options"]
        cheapest = max(options, key=lambda n: options[n]["p_cheapest"])
        grid_rows.append(
            (
                f"{row['volume_realization']:g}x",
                f"{row['growth_realization']:g}x",
                *(share(options[n]["p_cheaper"]) for n in names),
                labels[cheapest],
            )
        )
    sections.append(
        _section(
            "stress-table",
            "Stress test: the grid",
            [stress_sentence(result)],
            [
                Table(
                    "P(cheaper than the baseline) at each point of the grid",
                    (
                        "Volume x",
                        "Growth rate x",
                        *(labels[n] for n in names),
                        "Cheapest most often",
                    ),
                    grid_rows,
                )
            ],
            [
                "Volume x multiplies every path's realized volume level and growth rate x "
                "its realized growth rate; each point is a run of the same "
                f"{method['paths']:,} paths (the run's first, same seed). summary.json "
                "also gives each point's median saving, P(cheapest) and expected regret."
            ],
        )
    )

    tables = []
    shown = 10
    for name, effects in extra["sensitivity"].items():
        tables.append(
            Table(
                labels[name],
                (
                    "Input",
                    "Spearman",
                    "Share of variance",
                    "Median saving, input low",
                    "input high",
                ),
                [
                    (
                        e["input"],
                        "-" if e["spearman"] is None else f"{e['spearman']:+.2f}",
                        f"{e['variance_share']:.1%}",
                        money(e["savings_p50_low"], currency),
                        money(e["savings_p50_high"], currency),
                    )
                    for e in effects[:shown]
                ],
                code=True,
            )
        )
    sections.append(
        _section(
            "sensitivity-table",
            "What drives the savings: the inputs",
            [sensitivity_sentence(result, name) for name in extra["sensitivity"]],
            tables,
            [
                f"For each option's saving against {base}, on the run's first "
                f"{method['sensitivity_paths']:,} paths: the Spearman rank correlation "
                "with each sampled input; its first-order share of variance (the variance "
                f"of the mean saving within {method['variance_bins']} equal-count bins of "
                "the input, over the variance of the saving, less what bin means vary by "
                "chance); and the median saving on the paths with the input in its lowest "
                f"and highest 10%. The {shown} most important inputs of each option "
                "(by share of variance) are shown; summary.json lists them all. Shares do "
                "not add up to 1: the rest is interactions between inputs and the "
                "month-by-month randomness (volume shocks, departures, upgrades)."
            ],
        )
    )
    return sections


def decision_section(result: SimulationResult) -> Section | None:
    """The recommendation, staged policies, value of information and the seed
    documents' decision questions: the first thing the report says."""
    from .words.verdict import decision_paragraphs

    extra = result.extra
    paragraphs = decision_paragraphs(result)
    if not paragraphs:
        return None
    currency = result.scenario.currency
    tables = []
    value = extra.get("value_of_information")
    if value is not None and any(i["evppi"] > 0 for i in value["by_input"]):
        shown = 8
        tables.append(
            Table(
                "What knowing each input before deciding is worth (EVPPI)",
                ("Input", "Expected saving"),
                [(i["input"], money(i["evppi"], currency)) for i in value["by_input"][:shown]],
                code=True,
            )
        )
    owned = [o for o in result.options.values() if o.kind == "on_prem" and o.notes]
    if owned:
        tables.append(
            Table(
                "Owned GPUs: both accounting views (means over paths)",
                ("Option", "GPUs owned at the end, p50 / p95", "Cash", "Amortized"),
                [
                    (
                        o.label,
                        f"{o.notes['gpus_owned']['p50']:.0f} / {o.notes['gpus_owned']['p95']:.0f}",
                        money(o.notes["cash_total"]["mean"], currency),
                        money(o.notes["amortized_total"]["mean"], currency),
                    )
                    for o in owned
                ],
            )
        )
    questions = extra.get("decision_questions")
    if questions is not None:
        tables.append(
            Table(
                "Before self-hosting: the five questions",
                ("Question", "Answer from the scenario and the run", "Verdict"),
                [(q["question"], q["answer"], q["verdict"]) for q in questions["answers"]],
                text=True,
            )
        )
    notes = []
    if questions is not None:
        notes.append(f"{questions['advice'][0].upper()}{questions['advice'][1:]}.")
    if owned:
        notes.append(
            "Cash: GPUs paid for when bought, their resale value (straight-line to the "
            "residual over the amortization period) credited in the last month. "
            "Amortized: each GPU's price less its residual, and its installation, spread "
            "over the amortization period, nothing credited at the end. The total cost "
            "columns use each option's own accounting setting."
        )
    if value is not None:
        notes.append(
            "EVPI is the expected regret of the recommended option among the allowed "
            "ones: what deciding with every input known would save on average. EVPPI is "
            "the same for one input alone, estimated on the run's first "
            f"{value['paths']:,} paths by grouping them into {value['bins']} equal-count "
            "bins of the input and taking the best allowed option within each bin; an "
            "input that never changes the best option is worth exactly nothing."
        )
    return _section("decision", "Decision", paragraphs, tables, notes)


def portfolio_section(result: SimulationResult) -> Section | None:
    """Feature by feature: which option each workload goes to, what it costs there,
    what the split saves and the runners-up (a scenario of several workloads only)."""
    from .words.portfolio import portfolio_rows, portfolio_sentence

    found = result.extra.get("portfolio")
    if not found or found.get("assignment") is None:
        return None
    scenario, options = result.scenario, result.options
    currency = scenario.currency
    total = found["total_cost"]
    paragraph = portfolio_sentence(result) or (
        "Feature by feature, one option serves every workload best: "
        f"{options[next(iter(found['assignment'].values()))].label}."
    )
    tables = [
        Table(
            "Each workload's option, and its first month there",
            ("Workload", "Option", "Month 1"),
            portfolio_rows(result),
            text=True,
        ),
        Table(
            f"The assignment against each option for everything, over {scenario.horizon_months} "
            "months",
            ("Serving every workload", "Mean", "The assignment saves"),
            [
                (
                    options[n].label + (" (excluded)" if options[n].excluded else ""),
                    money(options[n].total_cost.mean, currency),
                    money(s, currency),
                )
                for n, s in found["versus_single"].items()
            ],
        ),
    ]
    if found["runners_up"]:
        tables.append(
            Table(
                "Runners-up: what they change",
                ("Assignment", "Mean", "CVaR95"),
                [
                    (
                        ", ".join(
                            f"{w} to {options[o].label}"
                            for w, o in r["assignment"].items()
                            if o != found["assignment"][w]
                        ),
                        money(r["mean"], currency),
                        money(r["cvar95"], currency),
                    )
                    for r in found["runners_up"]
                ],
                text=True,
            )
        )
    notes = [
        f"The assignment costs {money(total['mean'], currency)} on average, "
        f"{money(total['p5'], currency)} to {money(total['p95'], currency)} on 90% of "
        f"futures; it is cheaper than the baseline for everything on "
        f"{share(found['p_cheaper'])} of them. {found['assignments_searched']:,} "
        f"assignments compared on the same futures, by {found['objective']} total cost. "
        "A workload's first month is its option's, shared by the workloads it serves in "
        "proportion to their tokens (a stack's first months are its setup).",
    ]
    moving = found.get("sensitivity") or []
    if moving:
        top = ", ".join(
            f"{e['input']} ({e['variance_share']:.0%} of the variance)" for e in moving[:3]
        )
        notes.append(f"What moves the saving against the baseline most: {top}.")
    value = found.get("value_of_information")
    if value is not None:
        notes.append(
            f"Knowing every input before assigning would save {money(value['evpi'], currency)} "
            f"on average (EVPI among the {value['assignments']} best assignments, on the run's "
            f"first {value['paths']:,} paths)."
        )
    return _section("portfolio", "Feature by feature", [paragraph], tables, notes)
