"""Native Bitrix24 robots: definitions, registration on the portal, payloads, running and answering.

* :mod:`.form` parses the portal's PHP-style form bodies (with size limits);
* :mod:`.call` turns a robot payload into a :class:`b24kit.automation.RobotCall`;
* :mod:`.definitions` and :mod:`.spec` describe a robot (registry plus YAML overrides);
* :mod:`.install` registers them with ``bizproc.robot.add|update``, idempotently;
* :mod:`.handle` runs a call; :mod:`.responder` always answers with ``bizproc.event.send``.
"""

from __future__ import annotations

from .call import public_auth, robot_call
from .definitions import RobotDefinition, document_type
from .form import FormError, FormLimits, parse_body, parse_form
from .handle import run_robot
from .install import Installed, install
from .responder import answer, error_text
from .spec import PropertyModel, RobotModel

__all__ = [
    "FormError",
    "FormLimits",
    "Installed",
    "PropertyModel",
    "RobotDefinition",
    "RobotModel",
    "answer",
    "document_type",
    "error_text",
    "install",
    "parse_body",
    "parse_form",
    "public_auth",
    "robot_call",
    "run_robot",
]
