"""Analysis commands: ``coverage``, ``plan``, ``nearby``, ``indicators``, ``need``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from cli.common import EXIT_OK, analysis_options, build_engine, open_store_of, slot, thresholds
from cli.progress import Progress
from geo.inputs import FACILITY_LAYERS


def coverage_lines(summary: pd.DataFrame, lang: str) -> str:
    """The coverage table as the terminal shows it, headers and values in ``lang`` (those of the district
    report)."""
    from exports.report import label
    from i18n.definitions import share_text
    from i18n.values import value_label

    shown = pd.DataFrame({
        label("figure", lang): summary["figure"],
        **{label(col, lang): summary[col].map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}")
           for col in ("residents", "covered")},
        label("rate", lang): summary["rate"].map(share_text),
        label("status", lang): summary["status"].map(lambda v: value_label("coverage_status", v, lang))})
    return shown.to_string(index=False)


def cmd_coverage(args: argparse.Namespace) -> int:
    """Who lives within 5/10/15 minutes of each kind of facility (a table, and per unit)."""
    from exports.files import write_tables
    from geo.units import assign_units, coverage_by_unit
    from i18n import render_note
    from i18n.definitions import labelled_summary

    progress = Progress(quiet=args.quiet)
    with open_store_of(args) as store:
        engine, stored = build_engine(store, args, progress, layers=args.layers)
        with progress.phase("walking distances") as tick:
            result = engine.run(args.thresholds, slot=slot(args.slot), progress=tick)
        summary = labelled_summary(result.summary(), args.lang)
        tables = {"summary": summary}
        if "boundaries" in stored:
            units = assign_units(engine.demand, store.layers.read("boundaries"), level=args.level)
            tables[f"by_{args.level}"] = coverage_by_unit(result, units)
    print(coverage_lines(summary, args.lang))
    for note in dict.fromkeys(result.notes):
        print(f"{'note' if args.lang == 'en' else '说明'}: {render_note(note, args.lang)}")
    if args.out:
        out = Path(args.out)
        write_tables(tables if out.suffix.lower() == ".xlsx" else {"summary": summary}, out)
        print(f"written: {out}")
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    """Choose new sites (MCLP, LSCP, p-median or capacitated) and save them as a scenario."""
    from geo.candidates import candidates_for, planning_problem
    from geo.planning import plan_notes, solve
    from geo.scenarios import scenario_payload
    from geo.whatif import WhatIf
    from i18n.values import site_name

    progress = Progress(quiet=args.quiet)
    with open_store_of(args) as store:
        engine, stored = build_engine(store, args, progress)
        read = lambda name: store.layers.read(name) if name in stored else None  # noqa: E731
        sources = [s for s in args.candidates.split(",") if s]
        candidates = candidates_for(engine, read, layer=args.layer, cutoff=args.cutoff, sources=sources)
        with progress.phase(f"catchments of {len(candidates)} candidates") as tick:
            problem, notes = planning_problem(engine, candidates, cutoff=args.cutoff, layers=[args.layer],
                                              progress=tick)
        with progress.phase(f"solving {args.problem} ({'exact' if args.exact else 'heuristic'})") as tick:
            plan = solve(problem, args.problem, p=args.p, target=args.target,
                         method="exact" if args.exact else "heuristic", time_limit=args.time_limit,
                         lp_bound=args.lp_bound, progress=tick)
        said = plan_notes(problem, plan)
        print(plan.describe())
        print(" ".join(map(str, said[:2])))
        for message in said[2:] + notes:
            print(f"note: {message}")
        chosen = candidates.iloc[plan.sites]
        print(chosen.assign(name=[site_name(r.name, r.site_kind, r.candidate_id, "en") for r in chosen.itertuples()])
              [["candidate_id", "name", "site_kind", "origin"]].to_string(index=False))
        if args.out:
            from exports.files import write_vectors

            write_vectors({"planned_sites": chosen}, args.out)
            print(f"written: {args.out}")
        if args.save:
            payload = scenario_payload(plan, candidates, WhatIf(engine, thresholds=[args.cutoff]), layer=args.layer,
                                       threshold=args.cutoff, inputs={"p": args.p, "target": args.target,
                                                                      "cutoff_m": args.cutoff},
                                       boundaries=store.layers.read("boundaries")
                                       if "boundaries" in {i.name for i in store.layers.list()} else None)
            store.scenarios.save(args.save, payload, user=args.user, overwrite=args.overwrite)
            print(f"scenario saved: {args.save}")
    return EXIT_OK


def cmd_nearby(args: argparse.Namespace) -> int:
    """Open fitness resources within a walk of a health station or a point; or the stations with none."""
    from exports.nearby_sheet import sheet_rows, write_nearby_csv, write_nearby_sheet
    from geo.nearby import NearbyFinder, parse_coordinates
    from i18n import render_note

    progress = Progress(quiet=args.quiet)
    with open_store_of(args) as store:
        engine, stored = build_engine(store, args, progress)
        finder = NearbyFinder(engine, {k: store.layers.read(k) for k in ("venues", "school_facilities", "greenways")
                                       if k in stored})
        if args.station:
            origin = finder.origin_of_station(args.station)
        elif args.at:
            origin = finder.origin_at(*parse_coordinates(args.at), system=args.coord_system)
        else:
            lonely = finder.stations_without_fitness(minutes=args.minutes, slot=slot(args.slot))
            print(lonely.to_string(index=False) if len(lonely) else
                  f"Every health station has an open fitness resource within {args.minutes:g} minutes.")
            return EXIT_OK
        result = finder.query(origin, minutes=args.minutes, slot=slot(args.slot))
        print(sheet_rows(result, args.lang).to_string(index=False) if len(result.table) else
              f"No fitness resource is open within {args.minutes:g} minutes of {origin.label}.")
        for note in result.notes:
            print(f"{'note' if args.lang == 'en' else '说明'}: {render_note(note, args.lang)}")
        if args.out:
            out = Path(args.out)
            if out.suffix.lower() == ".csv":
                write_nearby_csv(result, out, args.lang)
            else:
                write_nearby_sheet(result, out, streets=store.layers.read("walk_network") if "walk_network" in stored
                                   else None, issuer=origin.label if args.station else "", lang=args.lang)
            print(f"written: {out}")
    return EXIT_OK


def cmd_indicators(args: argparse.Namespace) -> int:
    """The alliance's indicators per unit and department (as of a date), and their trend."""
    from exports.files import write_tables
    from geo.indicators import indicator_trend, indicators_from
    from layers.health import configured_matching, stored_need
    from layers.stores.snapshot import change_snapshots, current_snapshot, snapshot_as_of

    with open_store_of(args) as store:
        snap = snapshot_as_of(store, args.as_of) if args.as_of else current_snapshot(store)
        ind = indicators_from(snap, survey=store.records.read("satisfaction"), level=args.level, period=args.period,
                              method=args.method, need=stored_need(store.records.read("health_indicators")),
                              matching=configured_matching())
        tables = {"units": ind.units, "departments": ind.departments, "league": ind.league,
                  "city": pd.DataFrame([ind.city])}
        if args.trend:
            tables["trend"] = indicator_trend(change_snapshots(store, FACILITY_LAYERS), method=args.method)
    print(f"layers read: {ind.source}")
    print(ind.league.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(ind.departments.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for note in ind.notes:
        print(f"note: {note}")
    if args.out:
        out = Path(args.out)
        write_tables(tables if out.suffix.lower() == ".xlsx" else {"units": ind.units}, out)
        print(f"written: {out}")
    return EXIT_OK


def cmd_need(args: argparse.Namespace) -> int:
    """A need group per unit: its people, those within reach of the facilities that serve it (or of a layer
    within a walk), published as estimates (people to the nearest ten, shares to whole percent); printed and
    written as a file."""
    from exports.need_files import need_frame, write_need
    from geo.disclosure import ESTIMATE_BASE
    from geo.errors import AnalysisError
    from geo.need_tables import need_table
    from geo.notes import Note
    from i18n import render_note
    from layers.health import INDICATORS, configured_matching, group_counts

    progress = Progress(quiet=args.quiet)
    with open_store_of(args) as store:
        rows = store.records.read("health_indicators")
        counts, period = group_counts(rows, args.group, args.period)
        if not counts:
            held = sorted(set(rows["indicator"])) if not rows.empty else []
            raise AnalysisError(f"No aggregates of {args.group!r}{' in ' + args.period if args.period else ''} are "
                                f"stored; the store holds {', '.join(held) or 'none'} (of {', '.join(INDICATORS)}).")
        layers = [args.layer] if args.layer else FACILITY_LAYERS
        engine, stored = build_engine(store, args, progress, layers=layers)
        if "boundaries" not in stored:
            raise AnalysisError("A need table needs the boundaries layer (its units).")
        boundaries = store.layers.read("boundaries")
        with progress.phase("walking distances") as tick:
            result = engine.run([args.threshold], slot=slot(args.slot), progress=tick)
        if args.layer:
            table = need_table(result, boundaries, args.group, counts, period=period, layer=args.layer,
                               threshold=args.threshold)
        else:
            facilities = {n: store.layers.read(n) for n in FACILITY_LAYERS if n in stored}
            table = need_table(result, boundaries, args.group, counts, period=period, engine=engine,
                               layers=facilities, clauses=configured_matching().get(args.group, ()))
    shown = pd.DataFrame(need_frame(table, args.lang).drop(columns="geometry"))
    print(shown.head(args.top).to_string(index=False))
    print(render_note(Note("need.published", {"base": ESTIMATE_BASE}), args.lang))
    if args.out:
        print(f"written: {write_need(table, args.out, args.lang)}")
    return EXIT_OK


def add_parsers(sub) -> None:
    """The analysis commands' subparsers."""
    from geo.candidates import CANDIDATE_SOURCES
    from geo.planning import PROBLEMS

    p = sub.add_parser("coverage", help="who lives within 5/10/15 minutes of each kind of facility")
    p.add_argument("--layers", type=lambda t: [x for x in t.split(",") if x], default=list(FACILITY_LAYERS),
                   help="facility layers, comma-separated (default: all four)")
    p.add_argument("--thresholds", type=thresholds, default=[300.0, 500.0, 1000.0],
                   help="walking distances in metres (default: 300,500,1000, the GB 50180 life circles)")
    p.add_argument("--level", default="street", choices=("district", "street", "community"),
                   help="units for the per-unit table (default: street)")
    p.add_argument("--out", help="write the tables: .csv (summary) or .xlsx (summary and per unit)")
    analysis_options(p)
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser("plan", help="choose new sites: mclp, lscp, pmedian or capacitated")
    p.add_argument("--problem", default="mclp", choices=PROBLEMS)
    p.add_argument("--p", type=int, default=5, help="number of new sites (mclp, pmedian, capacitated)")
    p.add_argument("--target", type=float, default=1.0, help="coverage share to reach (lscp), e.g. 0.95")
    p.add_argument("--cutoff", type=float, default=1000.0, help="walking distance that counts as covered (m)")
    p.add_argument("--layer", default="venues", help="facility layer the new sites join (default: venues)")
    p.add_argument("--candidates", default=",".join(reversed(CANDIDATE_SOURCES)),
                   help="uploaded (the candidate_sites layer), generated (gap street points, open land, "
                        "closed school fields), or both (default)")
    p.add_argument("--exact", action="store_true", help="solve the MILP with HiGHS instead of the heuristic")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds for the exact solver (default 60)")
    p.add_argument("--lp-bound", action="store_true", help="tighten the heuristic's bound with the LP relaxation")
    p.add_argument("--out", help="write the chosen sites (.gpkg, .geojson or .zip)")
    p.add_argument("--save", help="save the result as a named scenario in the store")
    p.add_argument("--overwrite", action="store_true", help="replace a saved scenario of the same name")
    analysis_options(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("nearby", help="open fitness resources within a walk of a health station or a point")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--station", help="health station feature_id (e.g. health-001)")
    where.add_argument("--at", help='"lon, lat" of the start (without --station or --at: stations with nothing near)')
    p.add_argument("--coord-system", default="wgs84", choices=("wgs84", "gcj02", "bd09"), help="of --at")
    p.add_argument("--minutes", type=float, default=15.0, help="walk in minutes (default 15; 10 for the station list)")
    p.add_argument("--out", help="the sheet: .pdf (printable, Chinese), .png, or .csv")
    analysis_options(p)
    p.set_defaults(func=cmd_nearby)

    p = sub.add_parser("indicators", help="the alliance's indicators per unit and department, and their trend")
    p.add_argument("--level", default="street", choices=("district", "street", "community"))
    p.add_argument("--period", help="survey period to report (default: the latest), e.g. 2026Q3")
    p.add_argument("--as-of", help="the layers as they stood then, e.g. 2026-09-30")
    p.add_argument("--trend", action="store_true", help="add the trend after each facility-layer change")
    p.add_argument("--out", help=".xlsx (every table) or .csv (per unit)")
    p.add_argument("--method", default="network", choices=("network", "straight_line"))
    p.set_defaults(func=cmd_indicators)

    p = sub.add_parser("need", help="a need group (hypertensive residents, 60+ …) per unit, as estimates")
    p.add_argument("--group", required=True, help="indicator code, e.g. hypertension_managed, aged_60_plus")
    p.add_argument("--period", help="the aggregates' period (default: the latest stored)")
    p.add_argument("--layer", help="count residents within --threshold of this layer instead of the group's "
                                   "matched facilities")
    p.add_argument("--threshold", type=float, default=500.0, help="walk in metres with --layer (default 500)")
    p.add_argument("--top", type=int, default=20, help="rows printed, by outreach rank (default 20)")
    p.add_argument("--lang", default="zh", choices=("zh", "en"), help="column titles (default: zh)")
    p.add_argument("--out", help=".csv, .xlsx, .gpkg, .geojson or .zip (Shapefile)")
    analysis_options(p)
    p.set_defaults(func=cmd_need)
