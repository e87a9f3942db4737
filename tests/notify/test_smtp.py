"""The SMTP login and TLS (notify/smtp.py) against a real local server (aiosmtpd): a
password goes only over TLS or to this machine, comes from the environment or Streamlit's
secrets file, and is never shown."""

from __future__ import annotations

import datetime as dt
import ipaddress
import smtplib
import ssl
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devtools.serving import free_port
from notify.send import NotifySettings
from notify.smtp import SmtpSettingsError, from_secrets, resolved, session
from tests.notify.conftest import Inbox

USER, PASSWORD = "kpi-mailer", "correct horse battery staple"


def self_signed(folder):
    """A certificate for 127.0.0.1 and its key, written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file


class Logins:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.seen.append((login, password))
        return AuthResult(success=(login, password) == (USER, PASSWORD))


@pytest.fixture
def tls_server(tmp_path):
    """An SMTP server on 127.0.0.1 that requires STARTTLS and a login."""
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    inbox, logins, port = Inbox(), Logins(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=logins, auth_required=True)
    controller.start()
    yield inbox, logins, port, cert_file
    controller.stop()


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = "Weekly briefing", "kpi@example.gov", "head@example.gov"
    mail.set_content("Figures for week 48.")
    return mail


def test_a_login_over_starttls_with_an_internal_authority_delivers(tls_server):
    inbox, logins, port, cert_file = tls_server
    settings = NotifySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls", smtp_ca_file=str(cert_file),
                              smtp_user=USER, smtp_password=PASSWORD)
    with session(settings) as server:
        server.send_message(message())
    assert logins.seen == [(USER, PASSWORD)]
    assert [m["Subject"] for m in inbox.messages] == ["Weekly briefing"]


def test_a_certificate_nobody_vouches_for_is_refused(tls_server):
    _inbox, logins, port, _cert = tls_server
    settings = NotifySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls", smtp_user=USER, smtp_password=PASSWORD)
    with pytest.raises(ssl.SSLCertVerificationError), session(settings):
        pass
    assert logins.seen == []  # the password never left


def test_a_wrong_password_fails_and_the_error_does_not_carry_it(tls_server):
    _inbox, logins, port, cert_file = tls_server
    settings = NotifySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls", smtp_ca_file=str(cert_file),
                              smtp_user=USER, smtp_password="guess", timeout_seconds=3)
    with pytest.raises(smtplib.SMTPException) as raised, session(settings):
        pass
    assert "guess" not in str(raised.value)
    assert logins.seen and all(password == "guess" for _, password in logins.seen)  # refused, not lost


def test_a_password_is_not_sent_unencrypted_to_another_machine():
    settings = NotifySettings(smtp_host="smtp.example.gov", smtp_port=25, smtp_user=USER, smtp_password=PASSWORD)
    with pytest.raises(SmtpSettingsError, match="not logging in to smtp.example.gov:25 over an unencrypted connection"), session(settings):
        pass


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_relay_on_this_machine_may_take_a_login_without_tls():
    inbox, logins, port = Inbox(), Logins(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=logins, auth_required=True,
                            auth_require_tls=False)  # a relay on this machine: aiosmtpd warns, as it should
    controller.start()
    try:
        with session(NotifySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_user=USER, smtp_password=PASSWORD)) as server:
            server.send_message(message())
    finally:
        controller.stop()
    assert logins.seen == [(USER, PASSWORD)] and len(inbox.messages) == 1


def test_settings_come_from_the_environment_over_the_secrets_file_and_the_password_is_never_shown(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[smtp]\nhost = "mail.internal"\nport = 587\nuser = "from-secrets"\npassword = "s3cret"\n', encoding="utf-8")
    from_file = from_secrets([tmp_path / "missing.toml", secrets])
    assert from_file == {"smtp_host": "mail.internal", "smtp_port": 587, "smtp_user": "from-secrets", "smtp_password": "s3cret"}
    chosen = resolved({"smtp_host": None}, {"smtp_user": "from-env", "smtp_password": "env-pass"}, from_file)
    assert (chosen["smtp_host"], chosen["smtp_user"], chosen["smtp_password"]) == ("mail.internal", "from-env", "env-pass")
    settings = NotifySettings(**chosen)
    assert "s3cret" not in repr(settings) and "env-pass" not in repr(settings)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    secrets.rename(tmp_path / ".streamlit" / "secrets.toml")
    for name in ("KPI_SMTP_HOST", "KPI_SMTP_PORT", "KPI_SMTP_USER", "KPI_SMTP_PASSWORD", "KPI_SMTP_SECURITY", "KPI_SMTP_FROM", "KPI_SMTP_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KPI_SMTP_PASSWORD", "env-pass")
    read = NotifySettings.from_environment(smtp_host=None, smtp_port=None)
    assert (read.smtp_host, read.smtp_port, read.smtp_user, read.smtp_password) == ("mail.internal", 587, "from-secrets", "env-pass")


@pytest.mark.parametrize(("secrets", "problem"), [
    ('[smtp]\nhost = "x"\npasword = "typo"\n', r"\[smtp\] has unknown key\(s\) pasword"),
    ('[smtp]\nport = "twenty-five"\n', "the SMTP port 'twenty-five' is not a number"),
    ('[smtp]\nsecurity = "tls1.3"\n', "the SMTP security 'tls1.3' is not one of none, starttls, ssl"),
    ('[smtp]\npassword = "lonely"\n', "an SMTP password is set without a user"),
    ('[smtp\nhost = "x"\n', "cannot be read as TOML"),
])
def test_a_setting_that_cannot_be_used_is_said_before_anything_is_sent(tmp_path, secrets, problem):
    path = tmp_path / "secrets.toml"
    path.write_text(secrets, encoding="utf-8")
    with pytest.raises(SmtpSettingsError, match=problem):
        resolved({}, {}, from_secrets([path]))
