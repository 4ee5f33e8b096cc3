

def test_the_operators_manual_is_readable_and_downloadable_in_the_console_only(public_client, client_a):
    from tests.conftest import login as log_in

    assert client_a.get("/console/manual/").status_code == 404
    assert client_a.get("/learn/manuals/operator/").status_code in (302, 404)
    log_in(client_a, "A001", "Kanri#Demo2026")
    assert client_a.get("/learn/manuals/operator/").status_code == 404
    log_in(public_client, "PREF-0001", "Unei#Demo2026")
    page = public_client.get("/console/manual/?q=停止")
    assert page.status_code == 200
    html = page.content.decode()
    assert "運営者マニュアル" in html and "停止と再開" in html and 'data-testid="search-results"' in html
    pdf = public_client.get("/console/manual/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
