"""Gongwen's time-stamping authority over HTTP (RFC 3161), checked by OpenSSL as an outside verifier."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from asn1crypto import algos, core, tsp

from handlers.seals.tsa import POLICY
from tests.support import program

QUERY = "application/timestamp-query"


def ask(client, body: bytes, mimetype: str = QUERY):
    return client.post("/tsa", data=body, headers={"Content-Type": mimetype})


def a_request(data: bytes, algorithm: str = "sha256", nonce: int | None = 4242, cert_req: bool = True,
              **more) -> bytes:
    digest = hashlib.new(algorithm, data).digest()
    fields = {"version": "v1", "cert_req": cert_req,
              "message_imprint": {"hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
                                  "hashed_message": digest}, **more}
    if nonce is not None:
        fields["nonce"] = nonce
    return tsp.TimeStampReq(fields).dump()


def test_openssl_verifies_a_timestamp_gongwen_issued_over_http(app, sealed, tmp_path) -> None:
    openssl = program("openssl")
    data = tmp_path / "document.pdf"
    data.write_bytes(b"%PDF-1.7 the sealed bytes")
    query = tmp_path / "query.tsq"
    subprocess.run([openssl, "ts", "-query", "-data", str(data), "-sha256", "-cert", "-out", str(query)],
                   check=True, capture_output=True)
    client = app.test_client()

    response = ask(client, query.read_bytes())
    root = client.get("/ca/root.pem")

    assert response.status_code == 200 and response.mimetype == "application/timestamp-reply"
    assert root.status_code == 200 and root.data.startswith(b"-----BEGIN CERTIFICATE-----")
    (tmp_path / "reply.tsr").write_bytes(response.data)
    (tmp_path / "root.pem").write_bytes(root.data)
    verified = subprocess.run([openssl, "ts", "-verify", "-data", str(data), "-in", str(tmp_path / "reply.tsr"),
                               "-CAfile", str(tmp_path / "root.pem")], capture_output=True, text=True)
    assert "Verification: OK" in verified.stdout, verified.stdout + verified.stderr
    shown = subprocess.run([openssl, "ts", "-reply", "-in", str(tmp_path / "reply.tsr"), "-text"],
                           capture_output=True, text=True, check=True).stdout
    assert f"Policy OID: {POLICY}" in shown and "Status: Granted." in shown
    # Other data under the same token is refused: the token is bound to the digest.
    data.write_bytes(b"%PDF-1.7 other bytes")
    refused = subprocess.run([openssl, "ts", "-verify", "-data", str(data), "-in", str(tmp_path / "reply.tsr"),
                              "-CAfile", str(tmp_path / "root.pem")], capture_output=True, text=True)
    assert "Verification: OK" not in refused.stdout


def test_the_reply_echoes_the_nonce_and_embeds_the_certificate_only_when_asked(app, sealed) -> None:
    client = app.test_client()

    with_cert = tsp.TimeStampResp.load(ask(client, a_request(b"x", nonce=987654321)).data)
    without = tsp.TimeStampResp.load(ask(client, a_request(b"x", nonce=None, cert_req=False)).data)

    info = with_cert["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 987654321
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"x").digest()
    assert len(with_cert["time_stamp_token"]["content"]["certificates"]) == 1
    assert without["time_stamp_token"]["content"]["certificates"].native is None
    serials = {tsp.TimeStampResp.load(ask(client, a_request(b"x")).data)["time_stamp_token"]["content"]
               ["encap_content_info"]["content"].parsed["serial_number"].native for _ in range(5)}
    assert len(serials) == 5


@pytest.mark.parametrize(("body", "failure"), [
    (b"", "bad_data_format"),
    (b"\x30\x03\x02\x01\x01", "bad_data_format"),
    (b"not asn.1 at all" * 10, "bad_data_format"),
    (a_request(b"x", algorithm="sha1"), "bad_alg"),
    (a_request(b"x", algorithm="md5"), "bad_alg"),
    (a_request(b"x", req_policy="1.2.3.4"), "unaccepted_policy"),
    (a_request(b"x", extensions=[{"extn_id": "2.5.29.99", "critical": False, "extn_value": b"\x05\x00"}]),
     "unaccepted_extensions"),
])
def test_a_bad_request_gets_a_rejection_not_an_error(app, sealed, body: bytes, failure: str) -> None:
    response = ask(app.test_client(), body)

    assert response.status_code == 200
    # A rejection carries no token (RFC 3161 §2.4.2); asn1crypto's TimeStampResp insists on one.
    status = tsp.PKIStatusInfo.load(core.Sequence.load(response.data)[0].dump())
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {failure}
    assert status["status_string"].native


def test_the_wrong_kind_of_body_or_a_huge_one_is_refused(app, sealed) -> None:
    client = app.test_client()

    assert ask(client, a_request(b"x"), mimetype="application/json").status_code == 415
    assert ask(client, b"\x00" * 100_000).status_code == 413
    assert client.get("/tsa").status_code == 405
