"""What plugins contribute: one frozen dataclass per kind, each able to check itself.

A plugin hands these to the ``register`` callback its hooks receive (see ``hookspecs``). The
core checks each one (``check()``), refuses duplicates, and remembers which plugin gave what,
so ``scholia plugins`` and the Plugins page can show it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import msgspec

from .errors import InvalidInput

__all__ = [
    "AnnotationType",
    "Candidate",
    "CategoryRef",
    "ContainerFile",
    "Contribution",
    "Editor",
    "EventHandler",
    "ExpandedItem",
    "ExportFormat",
    "ImportFormat",
    "ImportProblem",
    "ImportedAnnotation",
    "ImportedCategory",
    "ImportedDataset",
    "ImportedItem",
    "InvalidContribution",
    "MenuLink",
    "Modality",
    "ModelRegistration",
    "PageRequest",
    "PartRole",
    "Prediction",
    "PredictionInput",
    "Predictor",
    "PrelabelBackend",
    "QualityRule",
    "Route",
    "RuleResult",
    "SampleModel",
    "TemplateVars",
    "ValidationContext",
    "Viewer",
]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


class InvalidContribution(ValueError):
    """A contribution a plugin registered cannot be used; the message says why."""


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidContribution(
            f"{kind} name {name!r} is not valid: use lowercase letters, digits, '_', '-' or '.', "
            "starting with a letter (at most 64 characters)"
        )


def _check_callable(kind: str, name: str, attribute: str, value: object) -> None:
    if not callable(value):
        raise InvalidContribution(f"{kind} {name!r} has no callable {attribute!r} (got {value!r})")


class Contribution:
    """Base: every contribution has a ``name`` unique within its ``kind``."""

    kind: ClassVar[str]
    name: str

    def check(self) -> None:
        _check_name(self.kind, self.name)


@dataclass(frozen=True)
class ContainerFile:
    """A stored file a container modality expands into items (a video into its frames)."""

    path: Path
    sha256: str
    name: str
    """The name it was uploaded with."""
    meta: Mapping[str, Any]
    """What the modality's ``probe`` read of it."""


@dataclass(frozen=True)
class ExpandedItem:
    """One item a container yields (a video's frame, say), with where it came from."""

    name: str
    data: bytes
    media_type: str
    provenance: Mapping[str, Any] = field(default_factory=dict)
    """Where in the container it sits (``frame_index``, ``timestamp_ms``…); the core adds
    ``container`` (the file's sha256, name and modality)."""


@dataclass(frozen=True)
class PartRole:
    """One part of an item made of several (a point cloud frame's ``points``, ``camera_front``
    and ``calibration``; a conversation's ``turns``): a stored file or inline data.

    The core checks an item's parts against its modality's roles (a required one missing, an
    unknown one, a file of a media type the role does not take, inline data too large or not
    of the role's ``schema``) and refuses the item with the part's path (``$.parts.<role>``)."""

    name: str
    kind: Literal["file", "inline"] = "file"
    """A file kept in the content-addressed store, or JSON data kept on the item itself (at
    most ``limits.INLINE_PART_MAX`` bytes once encoded)."""
    required: bool = True
    title: str = ""
    media_types: tuple[str, ...] = ()
    """For a file part: the MIME types it takes (empty: any)."""
    schema: type[msgspec.Struct] | None = None
    """For an inline part: its shape; the core decodes the data into it, so a bad record is
    refused with the field's path."""
    probe: Callable[[Any], dict[str, Any]] | None = None
    """The part's metadata: given the file's ``Path`` (a file part; None falls back to the
    modality's ``probe``) or the decoded data (an inline part; None: none). Raise
    ``ValueError`` with a reason for a part it cannot read."""
    preview: bool = False
    """For a file part: lists show the item by the modality's ``thumbnail`` of this part's
    file (a frame's ``camera_front``); the first such role an item has is drawn. An item with
    none shows a neutral tile."""

    def check(self, modality: str) -> None:
        _check_name(f"modality {modality!r} part", self.name)
        if self.kind not in ("file", "inline"):
            raise InvalidContribution(
                f"modality {modality!r}: part {self.name!r} is a 'file' or 'inline', "
                f"not {self.kind!r}"
            )
        if self.schema is not None and not (
            isinstance(self.schema, type) and issubclass(self.schema, msgspec.Struct)
        ):
            raise InvalidContribution(
                f"modality {modality!r}: the schema of part {self.name!r} must be a "
                "msgspec.Struct subclass"
            )
        if self.probe is not None:
            _check_callable(f"modality {modality!r} part", self.name, "probe", self.probe)


@dataclass(frozen=True)
class Modality(Contribution):
    """A kind of media: which files it takes and how to read their metadata."""

    kind: ClassVar[str] = "modality"
    name: str
    title: str
    media_types: tuple[str, ...]
    """MIME types this modality ingests, e.g. ``("image/png", "image/jpeg")``."""
    extensions: tuple[str, ...]
    """File extensions with the dot, e.g. ``(".png", ".jpg")``."""
    probe: Callable[[Path], dict[str, Any]]
    """Read metadata (size, duration, frames…) and check the file can be read. Raise
    ``ValueError`` with a reason a person understands for a file this modality cannot read
    (corrupt, truncated, empty, too large); the file is then refused by name and the rest of
    its batch goes on."""
    expand: Callable[[ContainerFile, Any], Iterable[ExpandedItem]] | None = None
    """For containers (video → frames): the items one file becomes, given the options (an
    ``expand_options`` Struct), in order. Items already yielded are kept when it raises
    ``ValueError`` part-way (a truncated file); the core runs it again on a retry and skips
    the items it already holds."""
    yields: str | None = None
    """The modality of the items ``expand`` yields: projects of that modality take these files
    and expand them (a video uploaded to an image project becomes frame items)."""
    expand_options: type[msgspec.Struct] | None = None
    """The shape of the options ``expand`` takes (how many frames, say); the core decodes an
    upload's options into it, so a bad one is refused with the field's path."""
    thumbnail: Callable[[Path, int], bytes] | None = None
    """A thumbnail at most ``size`` pixels on its long side, as WebP or PNG bytes. Raise
    ``ValueError`` with the reason for a file it cannot draw (the server answers 422)."""
    parts: tuple[PartRole, ...] = ()
    """For items made of several parts (files with roles, inline records): the roles, in the
    order pages show them. Such items are created with their parts together
    (``scholia.core.parts``); a modality without parts makes one item of each file."""

    def check(self) -> None:
        super().check()
        _check_callable(self.kind, self.name, "probe", self.probe)
        if not self.media_types and not self.extensions and not self.parts:
            raise InvalidContribution(
                f"modality {self.name!r} accepts no media types, extensions or parts"
            )
        roles = [role.name for role in self.parts]
        if len(set(roles)) != len(roles):
            raise InvalidContribution(f"modality {self.name!r} names a part role twice")
        for role in self.parts:
            role.check(self.name)
        for extension in self.extensions:
            if not extension.startswith("."):
                raise InvalidContribution(
                    f"modality {self.name!r}: extension {extension!r} must start with '.'"
                )
        if (self.expand is None) != (self.yields is None):
            raise InvalidContribution(
                f"modality {self.name!r}: a container gives both expand and yields (the "
                "modality of the items it becomes), or neither"
            )
        if self.expand is not None:
            _check_callable(self.kind, self.name, "expand", self.expand)
        if self.expand_options is not None and not (
            isinstance(self.expand_options, type)
            and issubclass(self.expand_options, msgspec.Struct)
        ):
            raise InvalidContribution(
                f"modality {self.name!r}: expand_options must be a msgspec.Struct subclass"
            )


@dataclass(frozen=True)
class ValidationContext:
    """What a payload is validated against: the item and the project's live categories."""

    item_meta: Mapping[str, Any]
    categories: Mapping[int, str]
    """Live (not deleted) category id → name."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The project's settings; ``settings["annotation_options"][type name]`` holds options."""
    deleted_categories: Mapping[int, str] = field(default_factory=dict)
    """Soft-deleted category id → name, so a refusal can say the category was deleted."""

    def options(self, annotation_type: str) -> Mapping[str, Any]:
        """The project's options for one annotation type."""
        options: Mapping[str, Any] = self.settings.get("annotation_options", {})
        found: Mapping[str, Any] = options.get(annotation_type, {})
        return found

    def check_category(self, category_id: int, where: str) -> None:
        """Refuse a category id that is not a live category of the project, saying whether it
        was deleted or never existed (and which ones do), at the payload path ``where``."""
        if category_id in self.deleted_categories:
            name = self.deleted_categories[category_id]
            raise InvalidInput(
                f"category {category_id} ({name!r}) was deleted; restore it or choose another",
                where,
            )
        if category_id not in self.categories:
            known = ", ".join(f"{i} {n!r}" for i, n in sorted(self.categories.items()))
            raise InvalidInput(
                f"no category {category_id} in this project (categories: {known or 'none'})",
                where,
            )


@dataclass(frozen=True)
class Editor:
    """How annotators edit a payload: a template, an ES module and the keys it answers."""

    template: str
    """Template path inside the plugin's ``templates/`` folder, e.g. ``"rating/editor.html"``."""
    module: str
    """File inside the plugin's ``static/`` folder, e.g. ``"rating.js"``. It exports
    ``mount({ root, item, categories, options, current, save, viewer })`` (``viewer``: what
    the modality's ``Viewer`` gives editors to draw on, or null) and, to draw a saved payload
    read-only wherever one is shown (item page, adjudication versions, gold answers,
    suggestions), ``view({ root, payload, categories, item })``; see ``static/editors.js``."""
    hotkeys: Mapping[str, str] = field(default_factory=dict)
    """Key → what it does, shown in the keyboard help."""


@dataclass(frozen=True)
class Viewer(Contribution):
    """How one modality's items are shown: a template and an ES module that draw the item's
    media (an image stage with zoom, a player, a waveform…), which the editors of its types
    draw on as tools. Pages hold no branch on a media type: they include the viewer of the
    project's modality, or offer the file to open when its plugin gives none."""

    kind: ClassVar[str] = "viewer"
    name: str
    """The modality it shows (a ``Modality`` name)."""
    template: str
    """Template path inside the plugin's ``templates/`` folder, e.g. ``"image/viewer.html"``;
    rendered with ``item`` (the ``Item``) and ``media`` (its signed URL)."""
    module: str
    """File inside the plugin's ``static/`` folder, e.g. ``"viewer.js"``. It exports
    ``mount({ root, item })`` returning what editors receive as ``viewer`` (the image
    viewer's ``stage`` and ``zoom``), and optionally ``preload(item)``: what to fetch ahead
    for an item the annotator is likely to open next."""
    hotkeys: Mapping[str, str] = field(default_factory=dict)
    """Key → what it does, shown in the keyboard help."""


@dataclass(frozen=True)
class AnnotationType(Contribution):
    """A typed payload, how to validate it, compare it and edit it."""

    kind: ClassVar[str] = "annotation_type"
    name: str
    title: str
    payload: type[msgspec.Struct]
    """The payload's shape; decoding gives errors with the path of the bad field."""
    validate: Callable[[Any, ValidationContext], None]
    """Checks a decoded payload against the item and the categories; raises ``ValueError``
    (message for a person) or ``InvalidInput`` (with a field path) when it does not fit."""
    modalities: tuple[str, ...] = ()
    """Modalities it applies to; empty means any."""
    agreement: Callable[[Any, Any], float] | None = None
    """Pairwise agreement of two payloads in [0, 1], for the quality core."""
    aggregate: Callable[[Sequence[Any]], Any] | None = None
    """One payload from several (e.g. a majority vote), or None when they cannot be combined."""
    categories: Callable[[Any], Iterable[int]] | None = None
    """The category ids a payload uses; the core keeps per-category counts and filters with it."""
    editor: Editor | None = None
    options: type[msgspec.Struct] | None = None
    """The shape of this type's per-project options (``settings["annotation_options"][name]``);
    the core checks a project's options against it when the project is created."""
    votes: bool = False
    """Its labels are discrete choices (a category, a yes/no): the project may combine them
    with Dawid–Skene instead of the aggregate. A type without ``agreement`` is one."""
    defaulted: tuple[str, ...] = ()
    """Filled by the core at registration: which of ``agreement`` and ``aggregate`` the type
    left out and got the core's default for (see ``core.comparison``)."""

    def decode(self, raw: Any) -> Any:
        """A stored payload (plain data) as this type's ``payload`` Struct."""
        return msgspec.convert(raw, self.payload)

    def check(self) -> None:
        super().check()
        if self.options is not None and not (
            isinstance(self.options, type) and issubclass(self.options, msgspec.Struct)
        ):
            raise InvalidContribution(
                f"annotation type {self.name!r}: options must be a msgspec.Struct subclass, "
                f"got {self.options!r}"
            )
        if not (isinstance(self.payload, type) and issubclass(self.payload, msgspec.Struct)):
            raise InvalidContribution(
                f"annotation type {self.name!r}: payload must be a msgspec.Struct subclass, "
                f"got {self.payload!r}"
            )
        _check_callable(self.kind, self.name, "validate", self.validate)
        for attribute in ("agreement", "aggregate", "categories"):
            if getattr(self, attribute) is not None:
                _check_callable(self.kind, self.name, attribute, getattr(self, attribute))


@dataclass(frozen=True)
class PredictionInput:
    """One item a predictor is asked about: its media file as stored, and what was probed."""

    item_id: int
    name: str
    media_path: Path
    media_type: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """One proposed label: the annotation type's payload (as plain data, the shape its
    ``payload`` Struct decodes) and the model's probability for it, in [0, 1]."""

    payload: Mapping[str, Any]
    score: float


@dataclass(frozen=True)
class Prediction:
    """What a predictor says of one item: its candidates, best first, or why it has none.

    A classifier gives every category it knows with its probability (the core keeps the top
    ones for display and measures the uncertainty from them all). ``error`` fails this item
    only (a timeout, an unreadable image, a label the schema lacks); the batch goes on."""

    candidates: tuple[Candidate, ...] = ()
    error: str | None = None


class Predictor(Protocol):
    """A loaded model: loaded once per process, asked for batches.

    ``predict`` answers one ``Prediction`` per input, in the same order. It raises
    ``ModelFailed`` only when the model cannot answer at all (its file went missing, the
    service is down for every item); anything that concerns one item is that item's
    ``Prediction.error``."""

    def predict(self, inputs: Sequence[PredictionInput]) -> list[Prediction]: ...


@dataclass(frozen=True)
class ModelRegistration:
    """A registered model, as its backend's ``load`` receives it.

    ``categories`` are the ``(id, name)`` pairs the model was trained on, in the order of its
    outputs (a classifier's output ``i`` is ``categories[i]``); ``config`` has already been
    checked against the backend's ``config`` Struct (``None`` when it declares none)."""

    name: str
    version: str
    source: str
    """The artifact's path, or the service's URL."""
    annotation_type: str
    categories: tuple[tuple[int, str], ...]
    config: Any = None


@dataclass(frozen=True)
class SampleModel:
    """What registers a sample model: its ``source`` and its ``config`` as plain data."""

    source: str
    config: Mapping[str, Any]
    about: str = ""
    """One sentence on what it recognises and how it was made."""


@dataclass(frozen=True)
class PrelabelBackend(Contribution):
    """A source of suggestions: an ONNX model, a remote service…"""

    kind: ClassVar[str] = "prelabel_backend"
    name: str
    title: str
    annotation_types: tuple[str, ...]
    load: Callable[[ModelRegistration], Predictor]
    """Build a predictor from a model's registration; raise ``ModelFailed`` saying what is
    wrong (a missing or corrupt file, an input shape that does not match the registration, a
    service that does not answer). Called once per process and model version."""
    config: type[msgspec.Struct] | None = None
    """The shape of a registration's ``config`` (preprocessing, timeouts…), checked when the
    model is registered."""
    source_kind: Literal["file", "url"] = "file"
    """Whether ``source`` is a path to a file or a service URL (the form says which)."""
    sample: Callable[[Path, Sequence[str]], SampleModel] | None = None
    """Build a small working model for these category names in the folder, so the backend
    can be tried (the demo does) before a model of one's own exists."""

    def check(self) -> None:
        super().check()
        _check_callable(self.kind, self.name, "load", self.load)
        if not self.annotation_types:
            raise InvalidContribution(f"pre-label backend {self.name!r} serves no annotation type")
        if self.sample is not None:
            _check_callable(self.kind, self.name, "sample", self.sample)
        if self.config is not None and not (
            isinstance(self.config, type) and issubclass(self.config, msgspec.Struct)
        ):
            raise InvalidContribution(
                f"pre-label backend {self.name!r}: config must be a msgspec.Struct subclass"
            )


@dataclass(frozen=True)
class ExportFormat(Contribution):
    """Writes a dataset version in a named format."""

    kind: ClassVar[str] = "export_format"
    name: str
    title: str
    write: Callable[[Any, Path], None]
    """Write the dataset version (first argument) into the folder (second)."""
    annotation_types: tuple[str, ...] = ()
    """Annotation types it can write; empty means any."""

    def check(self) -> None:
        super().check()
        _check_callable(self.kind, self.name, "write", self.write)


@dataclass(frozen=True)
class CategoryRef:
    """A category in an imported payload, by name: the core puts the project's id in its place."""

    name: str


@dataclass(frozen=True)
class ImportedCategory:
    """A category an import format read: its name, and its id where the file gives one."""

    name: str
    id: int | None = None
    """The id the file gives (COCO has ids, Label Studio has none); kept by the import."""


@dataclass(frozen=True)
class ImportedAnnotation:
    """One annotation an import format read, with its payload in the type's shape."""

    annotation_type: str
    payload: Mapping[str, Any]
    """The type's payload, with a ``CategoryRef`` wherever a category id goes."""
    annotator: str | None = None
    """Who made it in the source; kept in the annotation's ``reasoning``."""
    where: str = ""
    """Where it is in the file, e.g. ``annotations.json $.annotations[3]``."""


@dataclass(frozen=True)
class ImportedItem:
    """One item an import format read: its name, its media file and its annotations."""

    name: str
    """The item's name in the project, e.g. ``cat.jpg``."""
    media: Path
    """The file to ingest; it must lie inside the folder being imported."""
    annotations: Sequence[ImportedAnnotation] = ()
    where: str = ""
    """Where it is in the file, e.g. ``annotations.json $.images[2] (images/cat.jpg)``."""


@dataclass(frozen=True)
class ImportProblem:
    """Something left out, and why; ``where`` points into the file."""

    where: str
    message: str


@dataclass(frozen=True)
class ImportedDataset:
    """What an import format's ``read`` returns; the core applies it (see ``imports``)."""

    categories: Sequence[ImportedCategory]
    """In display order."""
    items: Sequence[ImportedItem]
    problems: Sequence[ImportProblem] = ()
    """Records the reader left out (a box where only classification is read, say)."""


@dataclass(frozen=True)
class ImportFormat(Contribution):
    """Reads items, categories and annotations from files in a named format."""

    kind: ClassVar[str] = "import_format"
    name: str
    title: str
    read: Callable[[Path], ImportedDataset]
    """Read a folder (an uploaded zip is unpacked safely first) or one file the format reads,
    and return an ``ImportedDataset``; never touch the database. Raise
    ``InvalidInput`` with where in the file (``$.images[3].file_name``) for a bad file."""
    extensions: tuple[str, ...] = ()
    """Files it reads, with the dot, e.g. ``(".json",)``; empty means any."""

    def check(self) -> None:
        super().check()
        _check_callable(self.kind, self.name, "read", self.read)
        for extension in self.extensions:
            if not extension.startswith("."):
                raise InvalidContribution(
                    f"import format {self.name!r}: extension {extension!r} must start with '.'"
                )


@dataclass(frozen=True)
class RuleResult:
    """What a quality rule found: its value against its threshold, with the evidence counted."""

    passed: bool
    value: float | None
    threshold: float
    evidence: Mapping[str, int] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class QualityRule(Contribution):
    """A named check with a threshold, run for the Quality Hub and the export gate."""

    kind: ClassVar[str] = "quality_rule"
    name: str
    title: str
    evaluate: Callable[[Any, float], RuleResult]
    """Evaluate for a project context (first argument) against a threshold (second)."""
    default_threshold: float
    direction: Literal["at_least", "at_most"] = "at_least"
    minimum: float = 0.0
    maximum: float | None = 1.0
    """The thresholds that make sense (``maximum`` None: no upper bound, e.g. a count); a
    project configuring one outside them is refused."""
    gate: bool = True
    """Whether the export gate applies it (else it shows on the Quality Hub only)."""

    def check(self) -> None:
        super().check()
        _check_callable(self.kind, self.name, "evaluate", self.evaluate)
        if self.direction not in ("at_least", "at_most"):
            raise InvalidContribution(
                f"quality rule {self.name!r}: direction must be 'at_least' or 'at_most'"
            )
        if self.threshold_problem(self.default_threshold) is not None:
            raise InvalidContribution(
                f"quality rule {self.name!r}: default threshold {self.default_threshold!r} is "
                f"outside its own range"
            )

    def threshold_problem(self, value: object) -> str | None:
        """Why ``value`` cannot be this rule's threshold, or None when it can."""
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            return f"the threshold of {self.name!r} must be a number (got {value!r})"
        upper = "" if self.maximum is None else f" and at most {self.maximum:g}"
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            return (
                f"the threshold of {self.name!r} must be at least {self.minimum:g}{upper} "
                f"(got {value:g})"
            )
        return None


@dataclass(frozen=True)
class EventHandler(Contribution):
    """Called after a submission, a transition or an export has been saved."""

    kind: ClassVar[str] = "event_handler"
    EVENTS: ClassVar[frozenset[str]] = frozenset(
        {"annotation.submitted", "item.transitioned", "dataset.exported"}
    )
    name: str
    event: str
    handle: Callable[[Any], None]
    """Receives a ``scholia.core.events.Event``; its errors are logged, never raised."""

    def check(self) -> None:
        super().check()
        _check_callable(self.kind, self.name, "handle", self.handle)
        if self.event not in self.EVENTS:
            raise InvalidContribution(
                f"event handler {self.name!r}: unknown event {self.event!r}; "
                f"known events: {', '.join(sorted(self.EVENTS))}"
            )


@dataclass(frozen=True)
class Route(Contribution):
    """An extra web route: a Litestar route handler (the core only carries it to the server).

    ``access`` says who may call it, as the server's access table does for its own routes:
    ``public``, ``signed_in``, ``admin``, or under a project (found from the path's
    ``project_id``, ``item_id``…) ``member``, ``annotator``, ``reviewer``, ``adjudicator`` or
    ``manager``. A route without it is refused."""

    kind: ClassVar[str] = "route"
    name: str
    handler: Any
    access: str | None = None

    def check(self) -> None:
        super().check()
        if not hasattr(self.handler, "paths"):
            raise InvalidContribution(
                f"route {self.name!r}: handler must be a Litestar route handler "
                "(decorated with @get, @post…)"
            )


@dataclass(frozen=True)
class MenuLink(Contribution):
    """A link in the navigation bar, shown to users with ``role`` (everyone when None)."""

    kind: ClassVar[str] = "menu_link"
    name: str
    label: str
    href: str
    role: str | None = None
    order: int = 100

    def check(self) -> None:
        super().check()
        if not self.href.startswith("/"):
            raise InvalidContribution(f"menu link {self.name!r}: href must start with '/'")


class PageRequest(str):
    """What a page is being rendered for, handed to ``TemplateVars.provide``.

    It is the template's name (a ``str``, so a provider written as ``provide(template_name)``
    keeps working) and carries who asked, where and with what rights, and nothing of HTTP:
    ``user`` (the signed-in account, a ``scholia.core.models.User``, or None), ``project_id``
    (None outside a project), ``role`` (the user's role in that project: ``annotator``…
    ``manager``, ``admin`` for admins; None outside one), ``method`` and ``path`` (the URL
    path asked for)."""

    template: str
    user: Any
    project_id: int | None
    role: str | None
    method: str
    path: str

    def __new__(
        cls,
        template: str,
        *,
        user: Any = None,
        project_id: int | None = None,
        role: str | None = None,
        method: str = "GET",
        path: str = "",
    ) -> PageRequest:
        made = super().__new__(cls, template)
        made.template = template
        made.user = user
        made.project_id = project_id
        made.role = role
        made.method = method
        made.path = path
        return made


@dataclass(frozen=True)
class TemplateVars(Contribution):
    """Extra variables for templates: ``provide(page)`` returns a mapping, given the
    ``PageRequest`` (the template's name, the user, the project, the path)."""

    kind: ClassVar[str] = "template_vars"
    name: str
    provide: Callable[[PageRequest], Mapping[str, Any]]

    def check(self) -> None:
        super().check()
        _check_callable(self.kind, self.name, "provide", self.provide)
