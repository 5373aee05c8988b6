"""Label Studio JSON: the shape Label Studio itself exports, so data moves to it and back.

One task per image: ``data.image`` names the file, and ``annotations[0].result`` holds one
``choices`` result (``from_name`` "choice", ``to_name`` "image") with the category names,
matching a labeling config of ``<Image name="image" value="$image"/>`` and
``<Choices name="choice" toName="image">`` (written to ``label_config.xml``).
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

from scholia.core.exports import VersionView

from .media import Placer


def label_config(names: list[str], multiple: bool) -> str:
    choices = "\n".join(f"    <Choice value={quoteattr(n)}/>" for n in names)
    choice = ' choice="multiple"' if multiple else ""
    return (
        '<View>\n  <Image name="image" value="$image"/>\n'
        f'  <Choices name="choice" toName="image"{choice}>\n{choices}\n  </Choices>\n</View>\n'
    )


def write(version: VersionView, out: Path) -> None:
    names = version.category_names
    multiple = False
    with (out / "tasks.json").open("w") as file, Placer() as placer:
        file.write("[")
        first = True
        for record in version.records():
            if record.annotation_type != "classification":
                continue
            multiple = multiple or len(record.category_ids) > 1
            file_name = f"images/{Path(record.file_name).name}"
            placer.place(record.media, out / file_name)
            task = {
                "id": record.item_id,
                "data": {"image": file_name},
                "annotations": [
                    {
                        "id": record.item_id,
                        "completed_by": record.provenance["annotator"],
                        "result": [
                            {
                                "from_name": "choice",
                                "to_name": "image",
                                "type": "choices",
                                "value": {"choices": [names[c] for c in record.category_ids]},
                            }
                        ],
                    }
                ],
            }
            file.write(("" if first else ",\n") + json.dumps(task, sort_keys=True))
            first = False
        file.write("]\n")
    ordered = [c["name"] for c in version.categories]
    (out / "label_config.xml").write_text(label_config(ordered, multiple))
