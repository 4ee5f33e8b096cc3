"""Screening a prompt: personal-information detectors plus banned words, decided by the tenant's policy.

Pure functions over plain data: the pipeline loads the policy and banned words and passes them in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from guard.detectors import PII_TYPES, detect
from guard.normalize import find_folded

BANNED = "banned_word"
LABELS = {**PII_TYPES, BANNED: "禁止語"}

# Numbers that identify a person on their own are never sent; what staff often type by mistake (a name, a
# phone number) is shown to them to mask or edit.
DEFAULT_POLICY = {
    "person_name": "confirm",
    "address": "confirm",
    "phone": "confirm",
    "email": "confirm",
    "birth_date": "confirm",
    "my_number": "block",
    "credit_card": "block",
    "bank_account": "block",
    "pension_number": "block",
    "drivers_license": "block",
    "passport": "block",
    "resident_code": "block",
}
SEVERITY = {"send": 0, "mask": 1, "confirm": 2, "block": 3}


@dataclass(frozen=True)
class ScreenFinding:
    type: str
    label: str
    start: int
    end: int
    text: str
    reason: str
    action: str


@dataclass
class Screening:
    text: str
    findings: list[ScreenFinding] = field(default_factory=list)
    decision: str = "send"  # send | mask | confirm | block

    @property
    def clean(self) -> bool:
        return not self.findings

    def masked_text(self) -> str:
        """The prompt with every finding replaced by its label, e.g. 【氏名】."""
        out, cursor = [], 0
        for finding in sorted(self.findings, key=lambda f: f.start):
            if finding.start < cursor:
                continue
            out.append(self.text[cursor:finding.start])
            out.append(f"【{finding.label}】")
            cursor = finding.end
        out.append(self.text[cursor:])
        return "".join(out)

    def summary(self) -> list[dict]:
        """Findings without the personal information itself, for the audit trail."""
        return [{"type": f.type, "start": f.start, "end": f.end, "action": f.action} for f in self.findings]

    def for_display(self) -> list[dict]:
        return [asdict(f) for f in self.findings]


def screen(text: str, *, policy: dict[str, str] | None = None, banned_words: list[str] = ()) -> Screening:
    """Detect personal information and banned words in ``text`` and decide what may be sent."""
    policy = {**DEFAULT_POLICY, **(policy or {})}
    findings = [
        ScreenFinding(
            type=f.type, label=LABELS.get(f.type, f.type), start=f.start, end=f.end, text=f.text,
            reason=f.reason, action=policy.get(f.type, "block"),
        )
        for f in detect(text)
    ]
    for start, end, _needle in find_folded(text, list(banned_words)):
        findings.append(ScreenFinding(
            type=BANNED, label=LABELS[BANNED], start=start, end=end, text=text[start:end],
            reason="管理者が登録した禁止語です。", action="block",
        ))
    findings.sort(key=lambda f: (f.start, -f.end))
    decision = max((f.action for f in findings), key=SEVERITY.__getitem__, default="send")
    return Screening(text=text, findings=findings, decision=decision)
