"""The pure core: workflow rules as functions from data to data.

No I/O, no database, no clock and no global randomness: every input, `now` included,
is an argument, and every output is a value the shell carries out.
"""

from tidings.core.advance import Advanced, advance, decide
from tidings.core.conditions import Facts, evaluate, parse_condition, to_text
from tidings.core.duration import format_duration, parse_duration
from tidings.core.effects import (
    CallWebhook,
    Effect,
    Enroll,
    Notify,
    RequestApproval,
    Resume,
    Save,
    SendMessage,
    Start,
    StepLogEntry,
    Transition,
    UpdateContact,
)
from tidings.core.entry import LiveVersion, Refused, enter
from tidings.core.problems import Problem
from tidings.core.react import Reacted, react
from tidings.core.schema import OPEN_SCHEMA, Schema, schema_from_mapping
from tidings.core.spec import Workflow
from tidings.core.state import (
    ContactView,
    EnrollmentState,
    EnrollmentStatus,
    EventView,
    WaitKind,
)
from tidings.core.validate import validate_workflow

__all__ = [
    "OPEN_SCHEMA",
    "Advanced",
    "CallWebhook",
    "ContactView",
    "Effect",
    "Enroll",
    "EnrollmentState",
    "EnrollmentStatus",
    "EventView",
    "Facts",
    "LiveVersion",
    "Notify",
    "Problem",
    "Reacted",
    "Refused",
    "RequestApproval",
    "Resume",
    "Save",
    "Schema",
    "SendMessage",
    "Start",
    "StepLogEntry",
    "Transition",
    "UpdateContact",
    "WaitKind",
    "Workflow",
    "advance",
    "decide",
    "enter",
    "evaluate",
    "format_duration",
    "parse_condition",
    "parse_duration",
    "react",
    "schema_from_mapping",
    "to_text",
    "validate_workflow",
]
