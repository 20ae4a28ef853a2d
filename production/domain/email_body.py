"""An email's body as text: decoded by its charset, HTML turned to lines, and cut to what the
customer wrote now (no quoted thread, no signature).

Pure: a parsed message or strings in, text out (email_mime parses the message and calls these).
"""

from __future__ import annotations

import re
from email.message import EmailMessage, Message
from html import unescape
from html.parser import HTMLParser


def decode_text(payload: bytes, charset: str | None) -> str:
    """Decode body bytes by their declared charset, tolerating wrong or missing labels.

    ISO-8859-1 and US-ASCII labels are read as Windows-1252, as browsers do: mail clients that
    say latin-1 often send Windows "smart quotes". Unknown or wrong labels fall back to UTF-8,
    then Windows-1252, then Latin-1 (which decodes any byte).
    """
    label = (charset or "").strip().lower()
    if label in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "iso8859-1"):
        label = "windows-1252"
    for candidate in (label, "utf-8", "windows-1252"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def body_text(msg: Message) -> str:
    """Return the message's text: the text/plain body, or its HTML body converted to text."""
    part = _body_part(msg)
    if part is None:
        return ""
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return ""
    text = decode_text(raw, part.get_content_charset())
    if part.get_content_type() == "text/html":
        return html_to_text(text)
    if (part.get_param("format") or "") == "flowed":
        text = _unflow(text, delsp=str(part.get_param("delsp") or "").lower() == "yes")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _body_part(msg: Message) -> Message | None:
    if isinstance(msg, EmailMessage):
        try:
            found = msg.get_body(preferencelist=("plain", "html"))
        except (KeyError, ValueError):  # a malformed multipart the body finder trips on
            found = None
        if found is not None:
            return found
    # No body by the RFC's rules (an odd structure): the first inline text part will do.
    for part in msg.walk():
        if part.get_content_maintype() == "text" and \
                not str(part.get("Content-Disposition", "")).lower().startswith("attachment"):
            return part
    return None


def _unflow(text: str, *, delsp: bool) -> str:
    """Join RFC 3676 soft line breaks (a line ending in a space continues on the next)."""
    out: list[str] = []
    pending = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.endswith(" ") and line != "-- ":
            pending += line[:-1] if delsp else line
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return "\n".join(out)


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "head", "title"}
    _BLOCK = {"p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
              "section", "article", "header", "footer", "pre", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.skip = 0
        self.quote = 0

    def _newline(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip += 1
        elif tag == "br":
            self.lines.append("")
        elif tag == "blockquote":
            self._newline()
            self.quote += 1
        elif tag == "li":
            self._newline()
            self.lines[-1] = "- "
        elif tag in self._BLOCK:
            self._newline()
        elif tag in ("td", "th") and self.lines[-1].strip():
            self.lines[-1] += " "

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._newline()
        elif tag in self._BLOCK or tag == "li":
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = re.sub(r"\s+", " ", data)
        if not text.strip() and not self.lines[-1]:
            return
        if self.quote and not self.lines[-1].startswith(">"):
            self.lines[-1] = "> " * self.quote + self.lines[-1].lstrip()
        self.lines[-1] += text


def html_to_text(html: str) -> str:
    """Return readable text for an HTML body: blocks on their own lines, quotes as `>` lines."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [unescape(line).strip().replace("\xa0", " ") for line in parser.lines]
    return _squeeze("\n".join(lines))


def _squeeze(text: str) -> str:
    """Strip trailing spaces and collapse runs of blank lines to one."""
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------------------------------------
# What the customer wrote now

# "On Tue, 4 Jun 2024 at 10:00, Ada <ada@example.com> wrote:" (Gmail, Apple Mail, Thunderbird),
# and the same line in a few other languages.
_ATTRIBUTION = re.compile(
    r"^\s*(on|le|am|el|il|op|em)\b.{0,400}\b(wrote|a écrit|schrieb|escribió|ha scritto|"
    r"schreef|escreveu)\s*:\s*$", re.IGNORECASE | re.DOTALL)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(original message|forwarded by|reply message)\s*-{2,}\s*$",
                       re.IGNORECASE)
_HEADER_LINE = re.compile(r"^\s*\*?(from|sent|date|to|cc|subject)\s*:\*?\s", re.IGNORECASE)
_RULE = re.compile(r"^\s*_{10,}\s*$")
# Footers mobile and webmail clients add under the message.
_DEVICE_FOOTER = re.compile(
    r"^\s*(sent from my \w+|sent from (yahoo|aol) mail|sent from mail for windows|"
    r"sent from outlook|get outlook for (ios|android)|sent via [\w ]+ mobile|"
    r"envoyé de mon \w+|von meinem \w+ gesendet)\b", re.IGNORECASE)


def clean_body(text: str) -> str:
    """Return what the customer wrote now: the quoted thread and signature removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _squeeze(strip_signature(strip_quoted_reply(text)))


def strip_quoted_reply(text: str) -> str:
    """Cut the quoted thread: from an attribution line ("On ... wrote:"), an Outlook
    "Original Message" divider or From:/Sent: header block, and every `>` line."""
    lines = text.split("\n")
    cut = next((i for i in range(len(lines)) if _starts_quote(lines, i)), len(lines))
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    return "\n".join(kept)


def _starts_quote(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _ORIGINAL.match(line):
        return True
    # The attribution may be wrapped over up to three lines by the sender's client.
    for span in (1, 2, 3):
        joined = " ".join(part.strip() for part in lines[i:i + span])
        if lines[i].strip() and _ATTRIBUTION.match(joined):
            return True
    if _RULE.match(line) and i + 1 < len(lines) and _HEADER_LINE.match(lines[i + 1]):
        return True
    # Outlook's reply header: "From: ..." followed closely by "Sent:"/"Date:" and "To:"/"Subject:"
    if re.match(r"^\s*\*?from\s*:", line, re.IGNORECASE):
        following = [nxt for nxt in lines[i + 1:i + 5] if nxt.strip()]
        names = {m.group(1).lower() for nxt in following if (m := _HEADER_LINE.match(nxt))}
        return bool(names & {"sent", "date"}) and bool(names & {"to", "subject"})
    return False


def strip_signature(text: str) -> str:
    """Cut the signature: from an RFC 3676 "-- " delimiter or a device footer on.

    A sign-off ("Thanks, Ada") stays: it is part of what the customer wrote.
    """
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.rstrip() == "--" or _DEVICE_FOOTER.match(line):
            return "\n".join(lines[:i])
    return text
