"""Inbound messages in the formats mail servers and feedback loops really use, written for these
tests: an RFC 3464 DSN as Postfix sends it, an Exim bounce, an RFC 5965 complaint, a mailed
unsubscribe, a vacation reply and a person's note. CRLF line ends, as LMTP carries them."""

from __future__ import annotations


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def postfix_dsn(
    to: str, failed: str, message_id: str, status: str = "5.1.1", action: str = "failed",
    diagnostic: str = "smtp; 550 5.1.1 <{failed}>: Recipient address rejected: User unknown",
) -> bytes:  # fmt: skip
    """A Postfix non-delivery report: multipart/report with a message/delivery-status part."""
    diagnostic = diagnostic.format(failed=failed)
    return _crlf(f"""\
Return-Path: <>
Delivered-To: {to}
Received: by mx.digest.example.net (Postfix) id 4Zk1Q2; Mon, 30 Nov 2026 07:02:11 +0000 (UTC)
Date: Mon, 30 Nov 2026 07:02:11 +0000 (UTC)
From: MAILER-DAEMON@mail.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4Zk1Q2.1764486131/mail.example.org"
Message-Id: <20261130070211.4Zk1Q2@mail.example.org>

This is a MIME-encapsulated message.

--4Zk1Q2.1764486131/mail.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{failed}>: host mx.example.org[192.0.2.25] said: 550 5.1.1 User unknown

--4Zk1Q2.1764486131/mail.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.org
X-Postfix-Queue-ID: 4Zk1Q2
Arrival-Date: Mon, 30 Nov 2026 07:02:09 +0000 (UTC)

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.org
Diagnostic-Code: {diagnostic}

--4Zk1Q2.1764486131/mail.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Test Digest <digest@digest.example.net>
To: {failed}
Subject: Test Digest: 3 papers
Message-ID: {message_id}
List-Id: Test Digest <digest.digest.example.net>

--4Zk1Q2.1764486131/mail.example.org--
""")


def exim_bounce(to: str, failed: str, message_id: str) -> bytes:
    """An Exim bounce: plain text, X-Failed-Recipients, the original headers quoted in the body."""
    return _crlf(f"""\
Envelope-To: {to}
Received: from mailnull by relay.example.com with local (Exim 4.97)
	id 1tQx7c-0004Vb-2f; Mon, 30 Nov 2026 07:05:40 +0000
X-Failed-Recipients: {failed}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@relay.example.com>
To: {to}
Content-Type: text/plain; charset=us-ascii
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1tQx7c-0004Vb-2f@relay.example.com>
Date: Mon, 30 Nov 2026 07:05:40 +0000

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {failed}
    host mx.example.com [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<{failed}>:
    550 5.2.1 The email account that you tried to reach is disabled

------ This is a copy of the message, including all the headers. ------

From: Test Digest <digest@digest.example.net>
To: {failed}
Subject: Test Digest: 3 papers
Message-ID: {message_id}

(the body was here)
""")


def arf_complaint(to: str, message_id: str, rcpt: str = "", quoted_to: str = "redacted@example.org") -> bytes:
    """A spam complaint in the Abuse Reporting Format (RFC 5965), as feedback loops send them."""
    rcpt_line = f"Original-Rcpt-To: {rcpt}\n" if rcpt else ""
    return _crlf(f"""\
Delivered-To: {to}
From: Feedback Loop <feedback@fbl.example.com>
To: {to}
Subject: Complaint about a message from digest.example.net
Date: Mon, 30 Nov 2026 09:14:00 +0000
Message-ID: <fbl-81723@fbl.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="fbl_part"

--fbl_part
Content-Type: text/plain; charset=us-ascii

This is an email abuse report for an email message received from
IP 203.0.113.9 on Mon, 30 Nov 2026 07:01:12 +0000.

--fbl_part
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/2.1
Version: 1
Original-Mail-From: <bounces@digest.example.net>
{rcpt_line}Arrival-Date: Mon, 30 Nov 2026 07:01:12 +0000
Source-IP: 203.0.113.9
Reported-Domain: digest.example.net

--fbl_part
Content-Type: message/rfc822
Content-Disposition: inline

From: Test Digest <digest@digest.example.net>
To: {quoted_to}
Subject: Test Digest: 3 papers
Message-ID: {message_id}
Date: Mon, 30 Nov 2026 07:00:00 +0000

(redacted)

--fbl_part--
""")


def mailed_unsubscribe(sender: str, token: str) -> bytes:
    """What a mail client sends for the List-Unsubscribe mailto: link."""
    return _crlf(f"""\
From: {sender}
To: digest@digest.example.net
Subject: unsubscribe {token}
Date: Mon, 30 Nov 2026 08:00:00 +0000
Message-ID: <unsub-1@example.org>

""")


def vacation_reply(sender: str) -> bytes:
    return _crlf(f"""\
From: {sender}
To: bounces@digest.example.net
Subject: Out of office: Test Digest: 3 papers
Auto-Submitted: auto-replied
Date: Mon, 30 Nov 2026 08:00:00 +0000

I am away until December 7th and will read your message when I am back.
""")


def person_note(sender: str) -> bytes:
    return _crlf(f"""\
From: {sender}
To: digest@digest.example.net
Subject: Re: Test Digest: 3 papers
Date: Mon, 30 Nov 2026 08:30:00 +0000

Thank you, the paper on data selection was exactly what I needed.
""")
