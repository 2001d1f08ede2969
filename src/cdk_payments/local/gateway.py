"""An HTTP gateway on 127.0.0.1 in front of a REST API deployed into the emulator.

moto creates the API's resources and methods but does not serve them; this does what API Gateway
does for an ``AWS_PROXY`` method with IAM authorization: it finds the deployed method for the path,
takes the caller's identity from the SigV4 ``Authorization`` header (the access key of an STS session
the emulator issued -> the assumed-role session ARN, as ``requestContext.identity.userArn``), builds
the proxy event and invokes the function the integration names (which the emulator runs locally).

As API Gateway does, it refuses (403 ``request_refused``) a request without a SigV4 signature, one
whose signature does not match (recomputed with the session's secret key), and one whose role has no
identity policy allowing ``execute-api:Invoke`` on the method's ARN (the role's inline and managed
policies, evaluated by moto's IAM policy engine; an API resource policy is not read).

Not emulated: WAF, throttling and request models (the handler validates every request itself).
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

from .emulator import ACCOUNT, Emulator

_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_FUNCTION = re.compile(r"arn:aws:apigateway:[^:]+:lambda:path/2015-03-31/functions/(.+)/invocations")


def proxy_event(method: str, resource: str, path: str, *, rest_api_id: str, stage: str, region: str = "us-east-1",
                body: Optional[str] = None, headers: Optional[dict[str, str]] = None,
                query: Optional[dict[str, list[str]]] = None, path_parameters: Optional[dict[str, str]] = None,
                identity: dict[str, Any]) -> dict[str, Any]:
    """What an AWS_PROXY integration passes to its function for one request (REST API, payload v1)."""
    headers = {"Content-Type": "application/json", "Host": f"{rest_api_id}.execute-api.{region}.amazonaws.com",
               **(headers or {})}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": dict(query) if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT, "apiId": rest_api_id, "resourcePath": resource, "httpMethod": method,
            "path": f"/{stage}{path}", "stage": stage, "requestId": str(uuid.uuid4()), "protocol": "HTTP/1.1",
            "identity": dict(identity),
        },
        "body": body,
        "isBase64Encoded": False,
    }


def match_resource(resources: list[dict[str, Any]], path: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The deployed resource whose path template matches ``path`` (literal segments first), and its parameters."""
    for resource in sorted(resources, key=lambda r: r["path"].count("{")):
        pattern = "^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(resource["path"])) + "$"
        matched = re.match(pattern, path)
        if matched:
            return resource, matched.groupdict()
    return None


def function_of(integration_uri: str) -> str:
    """The function ARN of a Lambda proxy integration's URI."""
    matched = _FUNCTION.fullmatch(integration_uri)
    if matched is None:
        raise ValueError(f"not a Lambda proxy integration: {integration_uri}")
    return matched.group(1)


def assumed_role(access_key_id: str) -> Any:
    """moto's record of the STS session an access key belongs to, or None."""
    from moto.sts.models import sts_backends

    return sts_backends[ACCOUNT]["aws"].get_assumed_role_from_access_key(access_key_id)


def session_identity(user_id: str, user_arn: str, access_key_id: str, *, source_ip: str = "127.0.0.1",
                     user_agent: str = "cdk-payments-local") -> dict[str, Any]:
    """requestContext.identity as API Gateway fills it for a request signed by an STS role session
    (``user_id`` is ``<role id>:<session name>``, ``user_arn`` the assumed-role session's ARN)."""
    return {"accountId": ACCOUNT, "caller": user_id, "user": user_id, "userArn": user_arn,
            "accessKey": access_key_id, "sourceIp": source_ip, "userAgent": user_agent,
            "cognitoIdentityId": None, "cognitoAuthenticationType": None}


def signature_matches(method: str, target: str, headers: dict[str, str], body: Optional[str], secret_key: str) -> bool:
    """Whether a request's SigV4 signature is the one its credential's secret key gives (the headers it
    names, the path and query, the body and the time it says it was signed at)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    lower = {name.lower(): value for name, value in headers.items()}
    parts = dict(part.strip().split("=", 1) for part in lower.get("authorization", "").split(" ", 1)[-1].split(","))
    access_key, _date, region, service, _ = parts["Credential"].split("/")
    signed = {name: lower[name] for name in parts["SignedHeaders"].split(";") if name in lower}
    request = AWSRequest(method=method, url=f"http://{lower.get('host', '')}{target}",
                         data=(body or "").encode(), headers=signed)
    request.context["timestamp"] = lower.get("x-amz-date", "")
    signer = SigV4Auth(Credentials(access_key, secret_key), service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return hmac.compare_digest(expected, parts.get("Signature", ""))


def invoke_allowed(role_arn: str, method_arn: str) -> bool:
    """Whether the role's identity policies allow ``execute-api:Invoke`` on the method (an explicit Deny wins)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.models import iam_backends

    role = iam_backends[ACCOUNT]["aws"].get_role_by_arn(role_arn)
    documents = [*role.policies.values(), *role.managed_policies.values()]
    results = {IAMPolicy(document).is_action_permitted("execute-api:Invoke", method_arn) for document in documents}
    return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results


class Gateway:
    """Serves one deployed REST API stage at ``http://127.0.0.1:PORT/STAGE/``."""

    def __init__(self, emulator: Emulator, rest_api_id: str, stage: str, region: str) -> None:
        self.emulator, self.rest_api_id, self.stage, self.region = emulator, rest_api_id, stage, region
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{self.stage}/"

    def start(self) -> "Gateway":
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else None
                status, headers, payload = gateway.handle(self.command, self.path, dict(self.headers.items()), body,
                                                          self.client_address[0])
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                data = payload.encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, *args: Any) -> None:  # quiet: the smoke steps say what happened
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, method: str, target: str, headers: dict[str, str], body: Optional[str],
               source_ip: str = "127.0.0.1") -> tuple[int, dict[str, str], str]:
        """One request, answered as API Gateway would: (status, headers, body)."""
        split = urllib.parse.urlsplit(target)
        prefix = f"/{self.stage}"
        if not (split.path == prefix or split.path.startswith(prefix + "/")):
            return _refused(403, "Missing Authentication Token")
        path = split.path[len(prefix):] or "/"
        apigateway = self.emulator.client("apigateway", self.region)
        matched = match_resource(apigateway.get_resources(restApiId=self.rest_api_id, limit=500)["items"], path)
        if matched is None or method not in (matched[0].get("resourceMethods") or {}):
            return _refused(403, "Missing Authentication Token")
        resource, parameters = matched
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        credential = _CREDENTIAL.search(authorization)
        if credential is None or credential.group(3) != "execute-api":
            return _refused(403, "Missing Authentication Token")
        session = assumed_role(credential.group(1))
        if session is None:
            return _refused(403, "The security token included in the request is invalid.")
        if not signature_matches(method, target, headers, body, session.secret_access_key):
            return _refused(403, "The request signature we calculated does not match the signature you provided.")
        method_arn = f"arn:aws:execute-api:{self.region}:{ACCOUNT}:{self.rest_api_id}/{self.stage}/{method}{path}"
        if not invoke_allowed(session.role_arn, method_arn):
            return _refused(403, f"User: {session.arn} is not authorized to perform: execute-api:Invoke on "
                                 f"resource: {method_arn}")
        identity = session_identity(session.user_id, session.arn, session.access_key_id, source_ip=source_ip)
        integration = apigateway.get_method(restApiId=self.rest_api_id, resourceId=resource["id"],
                                            httpMethod=method)["methodIntegration"]
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True) or None
        forwarded = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "connection")}
        event = proxy_event(method, resource["path"], path, rest_api_id=self.rest_api_id, stage=self.stage,
                            region=self.region, body=body, headers=forwarded, query=query,
                            path_parameters=parameters or None, identity=identity)
        response = self.emulator.client("lambda", self.region).invoke(
            FunctionName=function_of(integration["uri"]), Payload=json.dumps(event))
        payload = json.loads(response["Payload"].read() or "null")
        if "FunctionError" in response or not isinstance(payload, dict) or "statusCode" not in payload:
            return 502, {"Content-Type": "application/json"}, json.dumps({"message": "Internal server error"})
        answer_headers = {k: str(v) for k, v in (payload.get("headers") or {}).items()}
        answer_headers.setdefault("X-Request-Id", event["requestContext"]["requestId"])
        return int(payload["statusCode"]), answer_headers, payload.get("body") or ""


def _refused(status: int, message: str) -> tuple[int, dict[str, str], str]:
    """The example's gateway response body for a request API Gateway itself refuses."""
    return status, {"Content-Type": "application/json"}, json.dumps(
        {"error": {"code": "request_refused", "message": message}})
