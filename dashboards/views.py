"""The dashboard pages: the whole desk's figures for admins, their own for every agent.

Both render the same figures (dashboards.metrics) through the same tables (dashboards.tables);
`?format=csv&table=<name>` answers one table as CSV instead. An htmx request from the filter
form gets only the figures, not the page around them.
"""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboards import metrics
from dashboards.charts import dashboard_charts
from dashboards.forms import DEFAULT_PERIOD, DashboardForm
from dashboards.tables import TABLE_NAMES, Table, dashboard_tables, headlines
from tickets.permissions import agent_required
from tickets.selectors import teams_for

ERROR_ADMINS_ONLY = "The whole desk's dashboard is for admins; agents see their own figures."


@agent_required
@require_GET
def team_dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied(ERROR_ADMINS_ONLY)
    return _dashboard(request, own=False)


@agent_required
@require_GET
def my_dashboard(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, own=True)


def _dashboard(request: HttpRequest, *, own: bool) -> HttpResponse:
    query = request.GET.copy()
    query.setdefault("period", DEFAULT_PERIOD)  # so that the picker shows what the page shows
    form = DashboardForm(query, teams=teams_for(user=request.user))
    context = {
        "form": form,
        "own": own,
        "title": _("My figures") if own else _("Dashboard"),
    }
    wants_csv = request.GET.get("format") == "csv"
    if wants_csv and request.GET.get("table") not in TABLE_NAMES:
        raise Http404("no such table")  # before the figures: they cost a second on a big desk
    if form.is_valid():
        period = form.chosen_period()
        filters = form.filters(assignee_id=request.user.pk if own else None)
        figures = metrics.dashboard(period, filters, now=timezone.now())
        tables = dashboard_tables(figures)
        if wants_csv:
            return _csv(tables, request.GET.get("table", ""), period)
        context |= {
            "period": period,
            "previous": period.previous(),
            "headlines": headlines(figures),
            "tables": tables,
            "charts": dashboard_charts(tables),
            "csv_query": urlencode(
                [(k, v) for k, v in request.GET.items() if k not in ("format", "table")]
            ),
        }
    status = 200 if form.is_valid() else 400
    if request.htmx and request.htmx.target == "dashboard-body":
        return render(request, "dashboards/snippets/body.html", context, status=status)
    return render(request, "dashboards/dashboard.html", context, status=status)


def _csv(tables: dict[str, Table], name: str, period) -> HttpResponse:
    response = HttpResponse(tables[name].csv(), content_type="text/csv; charset=utf-8")
    filename = f"paydesk-{name}-{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
