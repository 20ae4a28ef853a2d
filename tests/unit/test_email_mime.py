"""Email parsing, cleanup, loop detection and reply composition: pure, no I/O.

Messages are built with the stdlib `email` package (as a mail client would send them) or
written out as raw bytes where the exact wire form matters (charsets, transfer encodings).
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from production.domain.email_body import (
    clean_body,
    decode_text,
    html_to_text,
    strip_quoted_reply,
    strip_signature,
)
from production.domain.email_mime import (
    compose_reply,
    parse_email,
    references_chain,
    reply_subject,
    skip_reason,
)

SUPPORT = ("support@techcorp.example",)


def _mail(body: str = "Hello, my export fails.", *, subtype: str = "plain",
          sender: str = "Ada Lovelace <ada@example.com>", subject: str = "Export fails",
          **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@techcorp.example"
    msg["Subject"] = subject
    msg["Message-ID"] = "<m1@example.com>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, subtype=subtype)
    return msg.as_bytes()


# --- parsing ---------------------------------------------------------------------------------

def test_plain_message_gives_sender_subject_ids_and_text() -> None:
    raw = _mail("Hi team,\nthe CSV export fails with error 42.\n\nThanks, Ada",
                In_Reply_To="<m0@techcorp.example>",
                References="<a-very-long-message-id-0123456789@mail.x.example> "
                           "<m0@techcorp.example>")
    raw = raw.replace(b" <m0@techcorp.example>", b"\n <m0@techcorp.example>")  # folded
    mail = parse_email(raw)
    assert mail.sender_email == "ada@example.com"
    assert mail.sender_name == "Ada Lovelace"
    assert mail.subject == "Export fails"
    assert mail.message_id == "<m1@example.com>"
    assert mail.in_reply_to == "<m0@techcorp.example>"
    assert mail.references == ("<a-very-long-message-id-0123456789@mail.x.example>",
                               "<m0@techcorp.example>")
    assert mail.content == "Hi team,\nthe CSV export fails with error 42.\n\nThanks, Ada"


def test_html_only_message_is_converted_to_text() -> None:
    html = ("<html><head><style>p {color: red}</style><title>x</title></head><body>"
            "<p>Hello&nbsp;support,</p><div>My invoice shows <b>$99</b> &amp; I paid $49."
            "<br>Please check.</div><ul><li>Order 1</li><li>Order 2</li></ul>"
            "<table><tr><td>Plan</td><td>Pro</td></tr></table>"
            "<script>alert(1)</script></body></html>")
    mail = parse_email(_mail(html, subtype="html"))
    assert mail.content == ("Hello support,\nMy invoice shows $99 & I paid $49.\nPlease check.\n"
                            "- Order 1\n- Order 2\nPlan Pro")


def test_multipart_alternative_prefers_the_plain_part() -> None:
    msg = MIMEMultipart("alternative")
    msg["From"] = "ada@example.com"
    msg["Subject"] = "Both"
    msg.attach(MIMEText("plain version", "plain", "utf-8"))
    msg.attach(MIMEText("<p>html version</p>", "html", "utf-8"))
    assert parse_email(msg.as_bytes()).content == "plain version"


def test_html_part_is_used_when_the_alternative_has_no_plain_text() -> None:
    msg = MIMEMultipart("mixed")
    msg["From"] = "ada@example.com"
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("<p>only <i>html</i> here</p>", "html", "utf-8"))
    msg.attach(alt)
    attachment = MIMEText("col1,col2", "csv", "utf-8")
    attachment.add_header("Content-Disposition", "attachment", filename="data.csv")
    msg.attach(attachment)
    assert parse_email(msg.as_bytes()).content == "only html here"


@pytest.mark.parametrize(("charset", "encoding"), [
    ("iso-8859-1", "quoted-printable"), ("windows-1252", "quoted-printable"),
    ("iso-8859-1", "base64"), ("utf-8", "base64"), ("utf-8", "8bit"),
])
def test_charsets_and_transfer_encodings_are_decoded(charset: str, encoding: str) -> None:
    text = "Caf\u00e9 cr\u00e8me \u2013 \u201cquoted\u201d"
    if charset == "iso-8859-1":
        text = "Caf\u00e9 cr\u00e8me na\u00efve"  # latin-1 cannot carry the dash or quotes
    msg = MIMEText("", "plain", charset)
    del msg["Content-Transfer-Encoding"]
    payload = text.encode(charset)
    msg.set_payload(payload.decode("latin-1"))
    if encoding == "quoted-printable":
        from quopri import encodestring
        msg.set_payload(encodestring(payload).decode("ascii"))
    elif encoding == "base64":
        import base64
        msg.set_payload(base64.encodebytes(payload).decode("ascii"))
    msg["Content-Transfer-Encoding"] = encoding
    msg["From"] = "ada@example.com"
    raw = msg.as_bytes() if encoding != "8bit" else (
        b"From: ada@example.com\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + payload)
    assert parse_email(raw).content == text


def test_latin1_label_with_windows_smart_quotes_reads_as_windows_1252() -> None:
    raw = (b"From: ada@example.com\nContent-Type: text/plain; charset=iso-8859-1\n"
           b"Content-Transfer-Encoding: 8bit\n\nIt\x92s \x93broken\x94 \x96 again")
    assert parse_email(raw).content == "It\u2019s \u201cbroken\u201d \u2013 again"


def test_wrong_or_unknown_charset_labels_fall_back_without_failing() -> None:
    assert decode_text("d\u00e9j\u00e0".encode(), "x-unknown-charset") == "d\u00e9j\u00e0"
    assert decode_text(b"caf\xe9", "utf-8") == "caf\u00e9"  # not UTF-8 after all: cp1252
    assert decode_text(b"\x81\x8d", None) == "\x81\x8d"  # bytes cp1252 leaves undefined


def test_encoded_word_headers_and_raw_8bit_headers_are_decoded() -> None:
    raw = (b"From: =?utf-8?q?Jos=C3=A9_N=C3=BA=C3=B1ez?= <jose@example.com>\n"
           b"Subject: =?iso-8859-1?q?R=E9sum=E9?= and caf\xe9\n\nbody")
    mail = parse_email(raw)
    assert mail.sender_name == "Jos\u00e9 N\u00fa\u00f1ez"
    assert mail.sender_email == "jose@example.com"
    assert mail.subject == "R\u00e9sum\u00e9 and caf\u00e9"


def test_sender_without_a_usable_address() -> None:
    assert parse_email(b"Subject: x\n\nbody").sender_email is None
    mail = parse_email(b"From: Just A Name\n\nbody")
    assert mail.sender_email is None


def test_format_flowed_soft_breaks_are_joined() -> None:
    raw = (b"From: ada@example.com\nContent-Type: text/plain; charset=utf-8; format=flowed\n\n"
           b"This line was wrapped by \nthe client.\nNew line.")
    assert parse_email(raw).content == "This line was wrapped by the client.\nNew line."
    delsp = (b"From: ada@example.com\nContent-Type: text/plain; format=flowed; delsp=yes\n\n"
             b"Wrap wi \nthin a word.")
    assert parse_email(delsp).content == "Wrap within a word."


def test_message_without_text_has_empty_content() -> None:
    msg = EmailMessage()
    msg["From"] = "ada@example.com"
    msg.set_content(b"\x89PNG", maintype="image", subtype="png", filename="x.png")
    assert parse_email(msg.as_bytes()).content == ""


# --- quoted replies and signatures -----------------------------------------------------------

GMAIL_REPLY = """Yes, it still fails after the update.

On Tue, Jun 4, 2024 at 10:02 AM TechCorp Support <support@techcorp.example>
wrote:

> Could you try updating the app?
>
> Best, TechCorp
"""

APPLE_REPLY = """It worked, thank you!

Sent from my iPhone

> On 4 Jun 2024, at 10:02, TechCorp Support <support@techcorp.example> wrote:
>
> Please restart the sync.
"""

OUTLOOK_REPLY = """Still broken.

Regards,
Grace

-----Original Message-----
From: TechCorp Support <support@techcorp.example>
Sent: Tuesday, June 4, 2024 10:02 AM
To: Grace <grace@example.com>
Subject: RE: Sync
"""

OUTLOOK_HEADER_BLOCK = """Here is the screenshot you asked for.

________________________________
From: TechCorp Support <support@techcorp.example>
Sent: Tuesday, June 4, 2024 10:02
To: Grace Hopper
Subject: Sync
"""

OUTLOOK_FROM_BLOCK = """Thanks for the quick answer.

From: TechCorp Support [mailto:support@techcorp.example]
Sent: Tuesday, June 4, 2024 10:02 AM
To: Grace Hopper
Subject: RE: Sync

Earlier text
"""


@pytest.mark.parametrize(("text", "expected"), [
    (GMAIL_REPLY, "Yes, it still fails after the update."),
    (APPLE_REPLY, "It worked, thank you!"),
    (OUTLOOK_REPLY, "Still broken.\n\nRegards,\nGrace"),
    (OUTLOOK_HEADER_BLOCK, "Here is the screenshot you asked for."),
    (OUTLOOK_FROM_BLOCK, "Thanks for the quick answer."),
    ("Le mar. 4 juin 2024 \u00e0 10:02, Support a \u00e9crit :\n> old", ""),
    ("Answer one\n> question one\nAnswer two\n> question two", "Answer one\nAnswer two"),
], ids=["gmail", "apple", "outlook-divider", "outlook-rule", "outlook-from", "french",
        "interleaved"])
def test_quoted_replies_are_stripped(text: str, expected: str) -> None:
    assert clean_body(text) == expected


def test_a_from_line_in_the_customers_own_words_is_kept() -> None:
    text = "From: my manager I heard the export is fixed.\nIs that right?"
    assert strip_quoted_reply(text) == text


def test_html_blockquotes_become_quotes_and_are_stripped() -> None:
    html = ("<div>New question about billing.</div><div class='gmail_quote'>"
            "<div class='gmail_attr'>On Mon, Jun 3, 2024 at 9:00 AM Support &lt;"
            "support@techcorp.example&gt; wrote:<br></div>"
            "<blockquote>Old answer<br>more old</blockquote></div>")
    assert html_to_text(html).splitlines()[-1].startswith("> ")
    assert clean_body(html_to_text(html)) == "New question about billing."


@pytest.mark.parametrize(("text", "expected"), [
    ("Please help.\n\nThanks,\nAda\n-- \nAda Lovelace\nAnalytical Engines Ltd",
     "Please help.\n\nThanks,\nAda"),
    ("Please help.\n--\nAda", "Please help."),
    ("Please help.\n\nSent from my iPhone", "Please help."),
    ("Please help.\nGet Outlook for Android", "Please help."),
    ("Please help.\nSent from Yahoo Mail on Android", "Please help."),
    ("Please help.\n\nCheers,\nAda", "Please help.\n\nCheers,\nAda"),
    ("The price -- as quoted -- was wrong.", "The price -- as quoted -- was wrong."),
])
def test_signatures_are_stripped_and_sign_offs_stay(text: str, expected: str) -> None:
    assert clean_body(text) == expected


def test_strip_signature_leaves_text_without_one_untouched() -> None:
    assert strip_signature("just text\n") == "just text\n"


# --- loop protection -------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "subject", "reason"), [
    ({"Auto_Submitted": "auto-replied"}, "Export fails", "auto_reply"),
    ({"Auto_Submitted": "auto-generated"}, "Export fails", "auto_reply"),
    ({"X_Autoreply": "yes"}, "Export fails", "auto_reply"),
    ({"X_Autorespond": "1"}, "Export fails", "auto_reply"),
    ({"Precedence": "bulk"}, "Export fails", "auto_reply"),
    ({"Precedence": "junk"}, "Export fails", "auto_reply"),
    ({"Precedence": "list"}, "Export fails", "auto_reply"),
    ({"Return_Path": "<>"}, "Export fails", "auto_reply"),
    ({}, "Out of Office: back on Monday", "auto_reply"),
    ({}, "Automatic reply: Export fails", "auto_reply"),
    ({}, "Undeliverable: Re: Export fails", "auto_reply"),
    ({"Auto_Submitted": "no"}, "Export fails", None),
    ({"Precedence": "first-class"}, "Export fails", None),
    ({}, "Is the out of office feature available?", None),
])
def test_auto_replies_are_recognised(headers: dict[str, str], subject: str,
                                     reason: str | None) -> None:
    mail = parse_email(_mail(subject=subject, **headers))
    assert skip_reason(mail, own_addresses=SUPPORT) == reason


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.com",
                                    "Mail Delivery System <postmaster@example.com>"])
def test_bounces_from_the_mail_system_are_recognised(sender: str) -> None:
    mail = parse_email(_mail(sender=sender, subject="Hello"))
    assert skip_reason(mail, own_addresses=SUPPORT) == "bounce"


def test_a_delivery_status_report_is_a_bounce_whoever_sends_it() -> None:
    raw = (b"From: notifications@mx.example.com\nSubject: Hello\nMIME-Version: 1.0\n"
           b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
           b"--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
           b"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n"
           b"\nFinal-Recipient: rfc822; gone@example.com\nAction: failed\nStatus: 5.1.1\n"
           b"--b--\n")
    mail = parse_email(raw)
    assert mail.report_type == "delivery-status"
    assert mail.has_delivery_status
    assert skip_reason(mail, own_addresses=SUPPORT) == "bounce"


def test_own_mail_is_recognised_case_insensitively() -> None:
    mail = parse_email(_mail(sender="TechCorp <Support@TechCorp.example>"))
    assert skip_reason(mail, own_addresses=SUPPORT) == "own_mail"
    assert skip_reason(parse_email(_mail()), own_addresses=SUPPORT) is None


# --- replies ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "expected"), [
    ("Export fails", "Re: Export fails"),
    ("Re: Export fails", "Re: Export fails"),
    ("RE: re:  Export   fails", "Re: Export fails"),
    ("Re[2]: AW: Export fails", "Re: Export fails"),
    ("Fwd: Export fails", "Re: Fwd: Export fails"),
    ("Regarding exports", "Re: Regarding exports"),
    (None, "Re:"),
    ("  ", "Re:"),
    ("Re:", "Re:"),
])
def test_reply_subject_has_exactly_one_re(subject: str | None, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_references_chain_appends_the_parent_once() -> None:
    assert references_chain("<a@x> <b@x>", "<c@x>") == "<a@x> <b@x> <c@x>"
    assert references_chain("<a@x> <c@x>", "<c@x>") == "<a@x> <c@x>"
    assert references_chain(None, "<c@x>") == "<c@x>"
    assert references_chain(["<a@x>", "<a@x> <b@x>"], None) == "<a@x> <b@x>"
    assert references_chain("", None) is None
    long = " ".join(f"<{i}@x>" for i in range(30))
    kept = references_chain(long, "<new@x>")
    assert kept is not None
    ids = kept.split()
    assert len(ids) == 20 and ids[0] == "<0@x>" and ids[-1] == "<new@x>"


def test_composed_reply_is_threaded_and_safe_against_header_injection() -> None:
    raw = compose_reply(
        from_address="support@techcorp.example", to_address="ada@example.com",
        to_name="Ada\r\nBcc: evil@example.com", subject="Re: Export fails",
        body="Hi Ada,\n\nTry again \u2014 it works now.\n", in_reply_to="<m1@example.com>",
        references="<m0@x> <m1@example.com>", message_id="<fte-1@techcorp.example>")
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["From"] == "support@techcorp.example"
    assert msg["To"].addresses[0].addr_spec == "ada@example.com"
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Re: Export fails"
    assert msg["In-Reply-To"] == "<m1@example.com>"
    assert msg["References"] == "<m0@x> <m1@example.com>"
    assert msg["Message-ID"] == "<fte-1@techcorp.example>"
    assert msg.get_content().replace("\r\n", "\n") == "Hi Ada,\n\nTry again \u2014 it works now.\n"
    plain = compose_reply(from_address="s@x.example", to_address="a@x.example", to_name=None,
                          subject="Re: x", body="b", in_reply_to=None, references=None,
                          message_id="<id@x.example>")
    parsed = message_from_bytes(plain, policy=policy.default)
    assert parsed["To"] == "a@x.example"
    assert parsed["In-Reply-To"] is None and parsed["References"] is None
