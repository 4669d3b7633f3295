"""What every mutation shares: incidents named by id or by reference, errors that name the custom
field at fault, and error codes that are the domain's own."""

from app.errors import ErrorCode
from schema import build_schema
from tests.schema.test_incidents_api import DECLARE, catalog

SEVERITY = """
mutation($input: ChangeIncidentSeverityInput!) { changeIncidentSeverity(input: $input) {
  incident { reference severity { name } } userErrors { field code } } }
"""
SET_FIELD = """
mutation($input: SetCustomFieldValueInput!) { setCustomFieldValue(input: $input) {
  incident { reference } userErrors { field code customFieldId } } }
"""


async def test_incident_mutations_take_the_reference_instead_of_the_id(api, people):
    rita = await api.as_(people.responder)
    mo = await api.as_(people.member)
    ids = await catalog(rita)
    await rita(DECLARE, {"input": {"name": "Checkout errors"}})
    secret = await mo(DECLARE, {"input": {"name": "Mo's secret", "private": True}})
    assert secret["declareIncident"]["incident"]["reference"] == "INC-2"

    critical = ids["severity"]["Critical"]
    changed = await rita(SEVERITY, {"input": {"reference": " inc-1 ", "severityId": critical}})
    assert changed["changeIncidentSeverity"] == {
        "incident": {"reference": "INC-1", "severity": {"name": "Critical"}},
        "userErrors": [],
    }

    # Someone else's private incident answers exactly as one that does not exist.
    hidden = await rita(SEVERITY, {"input": {"reference": "INC-2", "severityId": critical}})
    missing = await rita(SEVERITY, {"input": {"reference": "INC-99", "severityId": critical}})
    malformed = await rita(SEVERITY, {"input": {"reference": "INC-²", "severityId": critical}})
    refused = {"incident": None, "userErrors": [{"field": "reference", "code": "NOT_FOUND"}]}
    assert hidden["changeIncidentSeverity"] == refused
    assert missing["changeIncidentSeverity"] == refused
    assert malformed["changeIncidentSeverity"] == refused

    first = (await rita('{ incident(reference: "INC-1") { id } }'))["incident"]
    both = {"incidentId": first["id"], "reference": "INC-1", "severityId": critical}
    for given in (both, {"severityId": critical}):
        answer = await rita(SEVERITY, {"input": given})
        assert answer["changeIncidentSeverity"]["userErrors"] == [
            {"field": "incidentId", "code": "INVALID"}
        ]
    unchanged = await rita('{ incident(reference: "INC-1") { version } }')
    assert unchanged["incident"]["version"] == 2, "refused inputs changed nothing"


async def test_a_bad_custom_field_value_names_the_field(api, people):
    rita = await api.as_(people.responder)
    fields = (await catalog(rita))["field"]
    customers, link = fields["Customers affected"], fields["Status page"]

    declared = await rita(
        DECLARE.replace("userErrors { field message code }", "userErrors { code customFieldId }"),
        {"input": {"name": "Slow", "customFields": [{"fieldId": link["id"], "text": "ftp://x"}]}},
    )
    assert declared["declareIncident"] == {
        "incident": None,
        "userErrors": [{"code": "INVALID", "customFieldId": link["id"]}],
    }

    await rita(DECLARE, {"input": {"name": "Slow"}})
    too_long = {"fieldId": link["id"], "text": "https://status.example.com/" + "x" * 3000}
    answer = await rita(SET_FIELD, {"input": {"reference": "INC-1", "value": too_long}})
    assert answer["setCustomFieldValue"]["userErrors"] == [
        {"field": "value", "code": "INVALID", "customFieldId": link["id"]}
    ]
    count = {"fieldId": customers["id"], "number": 40}
    first = await rita(SET_FIELD, {"input": {"reference": "INC-1", "value": count}})
    assert first["setCustomFieldValue"]["userErrors"] == []
    again = await rita(SET_FIELD, {"input": {"reference": "INC-1", "value": count}})
    assert again["setCustomFieldValue"]["userErrors"] == [
        {"field": "value", "code": "INVALID", "customFieldId": customers["id"]}
    ]
    # Errors about something other than a custom field name none.
    stale = await rita(
        SET_FIELD, {"input": {"reference": "INC-1", "value": count, "expectedVersion": 1}}
    )
    assert stale["setCustomFieldValue"]["userErrors"] == [
        {"field": "expectedVersion", "code": "CONFLICT", "customFieldId": None}
    ]


def test_user_error_codes_are_the_domains_own():
    codes = build_schema()._schema.get_type("UserErrorCode")
    assert list(codes.values) == [code.name for code in ErrorCode]
    assert {"FELL_BEHIND", "UNAUTHENTICATED", "TOO_MANY_FEEDS"} <= set(codes.values)
