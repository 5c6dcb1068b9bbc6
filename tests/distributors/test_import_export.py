"""CSV import/export of distributors (django-import-export) through the registration service."""
import tablib
from django.contrib.auth.models import Permission, User

from distributors.models import Distributor
from distributors.resources import DistributorResource
from tenants.models import StaffMembership
from tests.factories import chain

HEADER = ["external_id", "name", "phone", "parent_external_id", "grade"]


def dataset(rows):
    return tablib.Dataset(*rows, headers=HEADER)


def test_import_builds_the_tree_through_the_service(in_tenant):
    chain(in_tenant, 1)
    result = DistributorResource().import_data(dataset([
        ("A", "Ann", "", "C0", ""), ("B", "Bo", "138", "A", ""), ("C", "Cy", "", "B", "")]), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    c = Distributor.objects.get(external_id="C")
    assert (c.depth, c.parent.external_id, c.ancestor_2.external_id, c.ancestor_3.external_id) == (3, "B", "A", "C0")
    assert len(c.invite_code) == 8


def test_a_bad_row_reports_and_nothing_is_imported(in_tenant):
    chain(in_tenant, 1)
    result = DistributorResource().import_data(dataset([
        ("A", "Ann", "", "C0", ""), ("B", "Bo", "", "ghost", ""), ("", "no id", "", "", ""), ("D", "Di", "", "", "platinum")]),
        dry_run=False, use_transactions=True)
    assert result.has_validation_errors()
    errors = {row.number: str(row.error) for row in result.invalid_rows}
    assert set(errors) == {2, 3, 4}
    assert "Unknown distributor 'ghost'" in errors[2] and "required" in errors[3] and "Unknown grade" in errors[4]
    assert not Distributor.objects.filter(external_id__in=["A", "B", "D"]).exists()


def test_export_and_admin_pages(in_tenant, client, tenant):
    chain(in_tenant, 3)
    exported = DistributorResource().export().csv.splitlines()
    assert exported[0] == "external_id,name,phone,parent_external_id,grade,status,invite_code,depth,joined_at"
    assert [line.split(",")[0] + ":" + line.split(",")[3] + ":" + line.split(",")[7] for line in exported[1:]] == [
        "C0::0", "C1:C0:1", "C2:C1:2"]
    pm = User.objects.create_user("pm", password="pw", is_staff=True)
    pm.user_permissions.set(Permission.objects.filter(content_type__app_label="distributors"))
    StaffMembership.objects.create(user=pm, tenant=tenant)
    client.force_login(pm)
    assert client.get("/admin/distributors/distributor/import/").status_code == 200
    assert client.get("/admin/distributors/distributor/export/").status_code == 200
