"""Build `organs/national.tsv.gz`, the national organ registry shipped with the package.

Run by a developer when the sources change, never by CI or at run time:

    .venv/bin/python -m organs.build            # downloads the two pinned wheels with pip
    .venv/bin/python -m organs.build --wheels DIR   # or reads them from DIR

Sources (docs/registry.md):
- `vietnamadminunits` (MIT): the 63 provinces, 696 districts and 10,035 communes before
  1 July 2025 and the 34 provinces and 3,321 communes after it, with the National Statistics
  Office codes, and the old → new commune conversion (Resolution 202/2025/QH15 and the
  Standing Committee's commune resolutions). Everything shipped comes from here.
- `vietnam-provinces` (GPL-3.0-or-later): read here only to cross-check the counts, the codes
  and the conversion against the NSO conversion table; nothing of it is written or shipped.

The units (kind, code, parent code, name, successor codes: p a province before 1 July 2025,
its successor the new province's code with `=` before it when the new province kept its name
and so is the same province living on; Q a province since then; D a district; C a commune
before the reform; W a commune since) become organs by rule (organs/national.py), written as
organs/shipped.py reads it. Nothing else goes in: organs with official codes (the sample
organs/organs.csv, an operator's file) are laid over it at run time (organs/overlay.py).
"""

from __future__ import annotations

import argparse
import gzip
import json
import runpy
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

from organs.national import national_organs
from organs.registry import OrganRegistry, index_keys
from organs.shipped import DATA, organ_row
from schemas.models import Organ

OUT = DATA
MIT_SOURCE = "vietnamadminunits==1.0.4"
GPL_CHECK = "vietnam-provinces==2026.9.0"  # cross-check only (GPL: never shipped or imported)


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--wheels", type=Path, help="folder holding the two wheels already")
    args.add_argument("--out", type=Path, default=OUT)
    opts = args.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = opts.wheels or _download(Path(tmp))
        src = _unpack(_wheel(wheels, "vietnamadminunits"), Path(tmp) / "mit")
        rows = _units(src / "vietnamadminunits" / "data")
        check = _wheel(wheels, "vietnam_provinces", required=False)
        if check is not None:
            _cross_check(rows, _unpack(check, Path(tmp) / "gpl") / "vietnam_provinces")
    units: dict[str, int] = defaultdict(int)
    for row in rows:
        units[row[0]] += 1
    organs = list(national_organs(rows))
    OrganRegistry(organs)  # the same checks as loading: ids unique, parents listed
    _write(organs, opts.out)
    levels: dict[str, int] = defaultdict(int)
    for organ in organs:
        levels[f"{organ.level.value}{' generated' if organ.generated else ''}"] += 1
    size = opts.out.stat().st_size
    print(f"{opts.out}: units {dict(units)}; organs {len(organs)} {dict(levels)}; {size} bytes")
    return 0


def _download(into: Path) -> Path:
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(into)]
    subprocess.run([*pip, MIT_SOURCE], check=True)
    # vietnam-provinces needs Python 3.12 to install; its wheel is only read, so any will do.
    subprocess.run([*pip, "--python-version", "3.12", "--only-binary=:all:", GPL_CHECK])
    return into


def _wheel(folder: Path, name: str, required: bool = True) -> Path | None:
    found = sorted(folder.glob(f"{name}-*.whl"))
    if not found and required:
        raise SystemExit(f"no {name} wheel in {folder}")
    return found[-1] if found else None


def _unpack(wheel: Path, into: Path) -> Path:
    with zipfile.ZipFile(wheel) as z:
        z.extractall(into)
    return into


Row = tuple[str, str, str, str, str]


def _units(data: Path) -> list[Row]:
    db = sqlite3.connect(data / "dataset.db")
    old = db.execute(
        "select provinceCode, province, provinceKey, districtCode, district, districtKey,"
        " wardCode, ward, wardKey from admin_units_legacy"
    ).fetchall()
    new = db.execute(
        "select provinceCode, province, provinceKey, wardCode, ward, wardKey from admin_units"
    ).fetchall()
    conv = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))

    new_prov = {key: (code, name) for code, name, key, *_ in new}
    old_prov = {key: (code, name) for code, name, key, *_ in old}
    prov_to_new = {o: new_prov[n][0] for n, olds in conv["DICT_PROVINCE"].items() for o in olds}
    rows: list[Row] = []
    for key, (code, name) in sorted(old_prov.items(), key=lambda kv: kv[1][0]):
        successor = prov_to_new[key]
        # The new province that kept this one's name (and UBND) is this one living on,
        # whatever code it carries now (Lào Cai 10 → 15: the merged province took Yên Bái's).
        lives_on = key in new_prov and new_prov[key][0] == successor
        rows.append(("p", code, "", name, ("=" if lives_on else "") + successor))
    rows += [("Q", code, "", name, "") for code, name in sorted(new_prov.values())]

    districts = sorted({(d, p, name) for p, _, _, d, name, *_ in old})
    rows += [
        ("D", d, p, name, prov_to_new_code(p, old_prov, prov_to_new)) for d, p, name in districts
    ]

    new_code = {(pk, wk): code for _, _, pk, code, _, wk in new}
    successors = _commune_successors(conv, new_code)
    for _, _, pk, d, _, dk, w, name, wk in sorted(old, key=lambda r: r[6] or ""):
        if w:  # island districts have no commune
            rows.append(("C", w, d, name, "|".join(sorted(successors.get(f"{pk}_{dk}_{wk}", ())))))
    rows += [("W", w, p, name, "") for p, _, _, w, name, _ in sorted(new, key=lambda r: r[3])]
    return rows


def prov_to_new_code(code: str, old_prov: dict, prov_to_new: dict) -> str:
    key = next(k for k, (c, _) in old_prov.items() if c == code)
    return prov_to_new[key]


def _commune_successors(conv: dict, new_code: dict) -> dict[str, set[str]]:
    """Old `province_district_ward` key → codes of the new communes it went into (a commune
    split between several lists them all)."""
    out: dict[str, set[str]] = defaultdict(set)
    for pk, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for wk, olds in wards.items():
            for old in olds:
                out[old].add(new_code[(pk, wk)])
    for pk, divided in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, parts in divided.items():
            out[old].update(new_code[(pk, part["newWardKey"])] for part in parts)
    return out


def _cross_check(rows: list[Row], gpl: Path) -> None:
    """Agreement with the NSO conversion table as vietnam-provinces ships it (read only)."""
    table = runpy.run_path(str(gpl / "_ward_conversion_2025.py"))["OLD_TO_NEW"]
    ours = {int(r[1]): {int(s) for s in r[4].split("|") if s} for r in rows if r[0] == "C"}
    theirs = {code: {w.code for w in e.new_wards} for code, e in table.items()}
    same = sum(1 for c, s in ours.items() if theirs.get(c) == s)
    overlap = sum(1 for c, s in ours.items() if s & theirs.get(c, set()))
    flat = json.loads((gpl / "data" / "flat-divisions.json").read_text(encoding="utf-8"))
    names = {int(r[1]): r[3] for r in rows if r[0] == "W"}
    same_names = sum(1 for w in flat if names.get(w["code"]) == w["name"])
    print(
        f"cross-check with {GPL_CHECK}: old communes {len(ours)} here, {len(theirs)} there; "
        f"same successors {same}, overlapping {overlap}; new communes {len(names)} here, "
        f"{len(flat)} there, same code and name {same_names}"
    )


def _write(organs: list[Organ], out: Path) -> None:
    text = "".join(organ_row(o, index_keys(o)) for o in organs)
    # No name, mtime 0: the same sources give the same bytes wherever the file is written.
    with out.open("wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as f:
        f.write(text.encode("utf-8"))


if __name__ == "__main__":
    raise SystemExit(main())
