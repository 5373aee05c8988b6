"""The tables. Import from here; each concept lives in its own module."""

from .annotation import Annotation, AnnotationSource, Confidence
from .audit import AuditEvent
from .dataset import DatasetVersion, DatasetVersionStatus
from .expansion import Expansion
from .identity import ApiToken, Role, SignInFailure, User, WebSession
from .item import Assignment, Blob, Item, ItemCategory, ItemCount, ItemPart, QueueSeed
from .membership import ProjectMember
from .model import Model, ModelStatus
from .project import Category, GuidelineVersion, LabelSchemaVersion, Project
from .quality import CalibrationAttempt, GoldAnswer, GoldResult, Suspension
from .review import Adjudication, Review
from .suggestion import (
    JobStatus,
    Outcome,
    Suggestion,
    SuggestionDecision,
    SuggestionJob,
    SuggestionStatus,
)

__all__ = [
    "Adjudication",
    "Annotation",
    "AnnotationSource",
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "Blob",
    "CalibrationAttempt",
    "Category",
    "Confidence",
    "DatasetVersion",
    "DatasetVersionStatus",
    "Expansion",
    "GoldAnswer",
    "GoldResult",
    "GuidelineVersion",
    "Item",
    "ItemCategory",
    "ItemCount",
    "ItemPart",
    "JobStatus",
    "LabelSchemaVersion",
    "Model",
    "ModelStatus",
    "Outcome",
    "Project",
    "ProjectMember",
    "QueueSeed",
    "Review",
    "Role",
    "SignInFailure",
    "Suggestion",
    "SuggestionDecision",
    "SuggestionJob",
    "SuggestionStatus",
    "Suspension",
    "User",
    "WebSession",
]
