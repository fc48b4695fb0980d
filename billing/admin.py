"""The support desk: "why can't I trade?" answered from one user page.

Support staff (the "support" group, see migration 0003) see users with their membership,
limits, trading pause, broker connections (status and last error, never credentials) and
e-mails; they resend activation, unlock a log-in locked by failed attempts (accounts 0004),
resync memberships, grant or extend a membership, retry an e-mail, re-apply a failed Whop
event, and read the health panel. Nothing here shows a secret.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.admin import UserAdmin
from accounts.models import BrokerConnection, Subaccount, User
from accounts.services import user_login_unlock
from billing import emails, membership_events, services
from billing.models import EmailDelivery, Membership, Plan, TradingPause, WhopEvent, WhopSyncRun
from billing.selectors import limits_overview, membership_current, trading_pause_open
from billing.tasks import membership_sync
from trading import control
from trading.models import SignalOutcome, Trader

FAILED_OUTCOMES = (SignalOutcome.Status.FAILED, SignalOutcome.Status.SAFETY_BLOCK)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only as part of deleting a user (their rows cascade; D23): superusers only.
        return bool(request.user.is_superuser)


class SupportActionsMixin:
    """``allowed_permissions`` names for the support desk's custom permissions."""

    def has_resend_activation_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("billing.resend_activation"))

    def has_resync_membership_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("billing.resync_membership"))

    def has_flatten_account_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("trading.flatten_account"))

    def has_unlock_login_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("accounts.unlock_login"))


def _sync_enqueue(trigger: str) -> None:
    transaction.on_commit(lambda: membership_sync.delay(trigger))


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "whop_product_id",
        "whop_plan_id",
        "max_broker_accounts",
        "max_traders",
        "max_followers",
        "copy_trading_allowed",
        "strategies_allowed",
        "premium_strategies_allowed",
        "api_access_allowed",
        "trial_days",
    )
    search_fields = ("name", "whop_product_id", "whop_plan_id")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Whop memberships are read-only here; adding or editing one is a staff grant."""

    list_display = ("user", "source", "status", "plan", "period_end", "whop_id", "updated_at")
    list_filter = ("source", "status", "plan")
    search_fields = ("user__email", "whop_id")
    list_select_related = ("user", "plan")
    autocomplete_fields = ("user",)
    fields = ("user", "plan", "period_end", "note")
    WHOP_FIELDS = (
        "user",
        "source",
        "whop_id",
        "status",
        "plan",
        "whop_product_id",
        "whop_plan_id",
        "period_end",
        "cancel_at_period_end",
        "created_at",
        "updated_at",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.source == Membership.Source.WHOP:
            return self.WHOP_FIELDS
        return ("user", "plan", "period_end", "note") + (("granted_by",) if obj else ())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.source == Membership.Source.WHOP:
            return self.WHOP_FIELDS
        return ("granted_by", "user") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if obj.source == Membership.Source.WHOP and change:
            return  # Whop is the truth for its memberships; the sync keeps them
        if obj.plan is None:
            raise PermissionDenied("A grant needs a plan.")
        grant = services.membership_grant(
            user=obj.user,
            plan=obj.plan,
            until=obj.period_end,
            granted_by=request.user,  # type: ignore[arg-type]
            note=obj.note,
        )
        obj.pk = grant.pk


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("source", "status", "plan", "period_end", "whop_id", "updated_at")
    readonly_fields = fields
    show_change_link = True


class BrokerConnectionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Status and the broker's last words; credential fields are never listed here."""

    model = BrokerConnection
    extra = 0
    fields = ("label", "broker", "status", "last_error", "created_at")
    readonly_fields = fields
    show_change_link = True


class TradingPauseInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TradingPause
    extra = 0
    fields = ("reason", "started_at", "ended_at", "traders_disabled")
    readonly_fields = fields


class EmailDeliveryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EmailDelivery
    extra = 0
    fields = ("kind", "status", "attempts", "last_error", "created_at", "sent_at")
    readonly_fields = fields
    show_change_link = True


admin.site.unregister(User)


@admin.register(User)
class SupportUserAdmin(SupportActionsMixin, UserAdmin):
    list_display = ("email", "is_active", "plan_now", "trading", "date_joined")  # type: ignore[assignment]
    list_filter = ("is_active", "is_staff", "memberships__status")
    readonly_fields = ("billing_at_a_glance", "trading_at_a_glance")
    fieldsets = (  # type: ignore[assignment]
        ("Billing at a glance", {"fields": ("billing_at_a_glance",)}),
        ("Trading at a glance", {"fields": ("trading_at_a_glance",)}),
        *UserAdmin.fieldsets,
    )
    inlines = (MembershipInline, TradingPauseInline, BrokerConnectionInline, EmailDeliveryInline)
    actions = ("resend_activation", "resync_membership", "flatten_accounts", "unlock_login")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return (
            super()
            .get_queryset(request)
            .annotate(open_pauses=Count("trading_pauses", filter=Q(trading_pauses__ended_at=None)))
        )

    @admin.display(description="plan")
    def plan_now(self, obj: User) -> str:
        membership = membership_current(user=obj)
        if membership is None:
            return "—"
        plan = membership.plan.name if membership.plan is not None else "unmapped plan"
        return f"{plan} ({membership.get_status_display()})"

    @admin.display(description="trading")
    def trading(self, obj: Any) -> str:
        return "paused" if getattr(obj, "open_pauses", 0) else "on"

    @admin.display(description="membership and limits")
    def billing_at_a_glance(self, obj: User) -> str:
        if obj.pk is None:
            return "—"
        membership, limits = limits_overview(user=obj)
        pause = trading_pause_open(user=obj)
        head = format_html(
            "<p><strong>{}</strong> · trading {}</p>",
            self.plan_now(obj),
            f"PAUSED since {pause.started_at:%Y-%m-%d %H:%M} UTC: {pause.reason}"
            if pause is not None
            else "on",
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    r.label,
                    "—" if r.used is None else r.used,
                    "not included" if not r.allowed else ("no cap" if r.cap is None else r.cap),
                )
                for r in limits
            ),
        )
        table = format_html(
            "<table><tr><th>limit</th><th>used</th><th>allowed</th></tr>{}</table>", rows
        )
        return format_html("{}{}", head, table) if limits else head

    @admin.display(description="traders and recent signals")
    def trading_at_a_glance(self, obj: User) -> str:
        if obj.pk is None:
            return "—"
        traders = Trader.objects.filter(user=obj).select_related("strategy")
        trader_rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    t.name,
                    t.strategy.name,
                    "on" if t.enabled else "OFF",
                    t.disabled_reason or ("" if t.enabled else "switched off by the user"),
                )
                for t in traders
            ),
        )
        outcomes = (
            SignalOutcome.objects.filter(trader_account__trader__user=obj)
            .select_related("signal", "subaccount", "trader_account__trader")
            .order_by("-id")[:20]
        )
        outcome_rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            (
                (
                    f"{o.signal.received_at:%Y-%m-%d %H:%M:%S}",
                    o.signal.action,
                    o.symbol or o.signal.symbol,
                    o.trader_account.trader.name,
                    o.subaccount.name,
                    o.get_status_display(),
                    f"{o.decision}: {o.reason}" if o.decision else o.reason,
                    f"{o.error_type}: {o.error_message}" if o.error_type else o.error_message,
                )
                for o in outcomes
            ),
        )
        flatten = reverse("admin:accounts_user_flatten", args=[obj.pk])
        return format_html(
            '<table id="user-traders"><tr><th>trader</th><th>strategy</th><th>state</th>'
            "<th>why off</th></tr>{}</table>"
            '<h4>Last 20 signal outcomes on their accounts</h4><table id="user-outcomes">'
            "<tr><th>received</th><th>signal</th><th>trader</th><th>account</th><th>status</th>"
            "<th>decision</th><th>error</th></tr>{}</table>"
            '<p><a href="{}?user={}">All their traders</a> · <a href="{}">Flatten their '
            "accounts…</a></p>",
            trader_rows or mark_safe("<tr><td colspan=4>no trader</td></tr>"),
            outcome_rows or mark_safe("<tr><td colspan=7>no signal yet</td></tr>"),
            reverse("admin:trading_trader_changelist"),
            obj.pk,
            flatten,
        )

    @admin.action(description="Flatten an account (confirm first)", permissions=["flatten_account"])
    def flatten_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> Any:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one user to flatten.", messages.ERROR)
            return None
        user = queryset.get()
        return HttpResponseRedirect(reverse("admin:accounts_user_flatten", args=[user.pk]))

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/flatten/",
                self.admin_site.admin_view(self.flatten_view),
                name="accounts_user_flatten",
            ),
            *super().get_urls(),
        ]

    def flatten_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirmation (GET) and execution (POST) of closing everything on one user's
        accounts (or one of them: ``?account=<id>``), read from the broker at that moment.
        A confirmation of a state that has changed since is refused and closes nothing."""
        if not request.user.has_perm("trading.flatten_account"):
            raise PermissionDenied
        user = User.objects.filter(pk=pk).first()
        if user is None:
            raise Http404
        subaccounts = Subaccount.objects.filter(connection__user=user).select_related("connection")
        account = request.POST.get("account") or request.GET.get("account") or ""
        if account:
            subaccounts = subaccounts.filter(pk=int(account) if account.isdigit() else 0)
        chosen = list(subaccounts.order_by("name", "id"))
        exposures = control.exposure_read(subaccounts=chosen)
        fingerprint = control.exposure_fingerprint(exposures=exposures)
        change_url = reverse("admin:accounts_user_change", args=[user.pk])
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": f"Flatten the accounts of {user.email}?",
            "subject": user,
            "account": account,
            "exposures": exposures,
            "fingerprint": fingerprint,
            "nothing_open": all(e.is_flat for e in exposures),
            "back": change_url,
            "opts": self.model._meta,
        }
        if request.method == "POST":
            if request.POST.get("fingerprint") != fingerprint:
                context["changed"] = True
                return TemplateResponse(
                    request, "admin/accounts/user/flatten.html", context, status=409
                )
            for result in control.positions_close_all(subaccounts=chosen):
                name = result.subaccount.name
                done = ", ".join(
                    [f"cancelled order {o.order_id} ({o.symbol})" for o in result.cancelled]
                    + [f"flattened {p.symbol} ({p.net_pos:+d})" for p in result.flattened]
                )
                if done or result.ok:
                    messages.success(request, f"{name}: {done or 'nothing was open'}.")
                for error in result.errors:
                    messages.error(request, f"{name}: {error}")
            return HttpResponseRedirect(change_url)
        return TemplateResponse(request, "admin/accounts/user/flatten.html", context)

    @admin.action(description="Resend the activation e-mail", permissions=["resend_activation"])
    def resend_activation(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        sent = 0
        for user in queryset:
            if user.is_active and user.has_usable_password():
                continue  # already activated: a password reset is what they need
            emails.activation_send(user=user)
            sent += 1
        self.message_user(
            request, f"Activation e-mail queued for {sent} user(s); active users skipped."
        )

    @admin.action(description="Unlock log-in", permissions=["unlock_login"])
    def unlock_login(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        unlocked = [user.email for user in queryset if user_login_unlock(user=user)]
        self.message_user(
            request,
            f"Log-in unlocked for {', '.join(unlocked)}."
            if unlocked
            else "None of them had failed log-ins to forget.",
        )

    @admin.action(description="Resync memberships from Whop now", permissions=["resync_membership"])
    def resync_membership(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _sync_enqueue(f"admin:{request.user.pk}")
        self.message_user(
            request, "Membership sync queued; its result appears under Whop sync runs."
        )


@admin.register(TradingPause)
class TradingPauseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "reason", "started_at", "ended_at", "traders_disabled")
    search_fields = ("user__email",)
    list_filter = (("ended_at", admin.EmptyFieldListFilter),)


@admin.register(WhopEvent)
class WhopEventAdmin(SupportActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "received_at",
        "event_type",
        "envelope",
        "status",
        "result",
        "error",
        "user",
        "deliveries",
    )
    list_filter = ("status", "event_type", "envelope")
    search_fields = ("whop_id", "claimed_id", "user__email", "result", "error")
    actions = ("reprocess",)
    change_list_template = "admin/billing/whopevent/change_list.html"

    @admin.action(description="Apply the failed event(s) again", permissions=["resync_membership"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WhopEvent]) -> None:
        done = 0
        for event in queryset.filter(status=WhopEvent.Status.FAILED, whop_id__isnull=False):
            WhopEvent.objects.filter(pk=event.pk).update(status=WhopEvent.Status.RECEIVED)
            membership_events.whop_event_apply(event=event)
            done += 1
        self.message_user(request, f"{done} failed event(s) applied again; see their result.")

    def get_urls(self) -> list[URLPattern]:
        return [
            path("health/", self.admin_site.admin_view(self.health_view), name="billing_health"),
            *super().get_urls(),
        ]

    def health_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("billing.view_health"):
            raise PermissionDenied
        if request.method == "POST":
            if not request.user.has_perm("billing.resync_membership"):
                raise PermissionDenied
            _sync_enqueue(f"admin:{request.user.pk}")
            messages.success(request, "Membership sync queued.")
            return HttpResponseRedirect(reverse("admin:billing_health"))
        from config.health import health_report

        since = timezone.now() - timedelta(hours=24)
        events = WhopEvent.objects.filter(received_at__gte=since)
        intake = {
            row["status"]: row["n"] for row in events.values("status").annotate(n=Count("id"))
        }
        context = {
            **self.admin_site.each_context(request),
            "title": "Health",
            "report": health_report(),
            "intake": sorted(intake.items()),
            "last_event": WhopEvent.objects.aggregate(at=Max("received_at"))["at"],
            "failed_events": WhopEvent.objects.filter(status=WhopEvent.Status.FAILED)[:10],
            "last_sync": WhopSyncRun.objects.first(),
            "failed_emails": EmailDelivery.objects.filter(
                status__in=[EmailDelivery.Status.FAILED, EmailDelivery.Status.RETRYING]
            )[:10],
            "whop_key": membership_events.whop_key_status(),
            **_failed_signals(),
        }
        return TemplateResponse(request, "admin/billing/health.html", context)


def _failed_signals() -> dict[str, Any]:
    """Outcomes that failed or hit a safety block for signals received in the last hour."""
    since = timezone.now() - timedelta(hours=1)
    failed = SignalOutcome.objects.filter(
        status__in=FAILED_OUTCOMES, signal__received_at__gte=since
    ).select_related("signal__strategy", "subaccount", "trader_account__trader__user")
    now = timezone.now()
    in_doubt = [
        (outcome, int((now - (outcome.in_doubt_since or now)).total_seconds()))
        for outcome in SignalOutcome.objects.filter(status=SignalOutcome.Status.IN_DOUBT)
        .select_related("signal__strategy", "subaccount", "trader_account__trader__user")
        .order_by("in_doubt_since")
    ]
    return {
        "failed_signals_count": failed.count(),
        "failed_signals": failed.order_by("-signal__received_at", "-id")[:5],
        "in_doubt": in_doubt,
    }


@admin.register(WhopSyncRun)
class WhopSyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "started_at",
        "trigger",
        "status",
        "pages",
        "memberships_seen",
        "memberships_changed",
        "users_created",
        "shape_errors",
        "rate_limited",
    )
    list_filter = ("status",)
    readonly_fields = ("errors_list",)

    @admin.display(description="errors")
    def errors_list(self, obj: WhopSyncRun) -> str:
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li><code>{}</code></li>", ((e,) for e in obj.errors)),
        )


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(SupportActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "to_email", "status", "attempts", "last_error", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("to_email",)
    actions = ("retry",)

    @admin.action(description="Send again", permissions=["resend_activation"])
    def retry(self, request: HttpRequest, queryset: QuerySet[EmailDelivery]) -> None:
        for delivery in queryset:
            emails.email_delivery_retry(delivery=delivery)
        self.message_user(request, f"{queryset.count()} e-mail(s) queued again.")
