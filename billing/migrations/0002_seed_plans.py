"""The four tiers sold today, each with a 7-day trial. Whop ids are filled in the admin."""

from django.db import migrations

PLANS = [
    # name, slug, rank, accounts, strategies+traders, copy, premium, api
    ("Copy Trader", "copy-trader", 10, 10, False, True, False, False),
    ("Basic", "basic", 20, 5, True, False, False, False),
    ("Premium", "premium", 30, 10, True, False, True, False),
    ("Elite", "elite", 40, 25, True, True, True, True),
]


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for name, slug, rank, accounts, strategies, copy, premium, api in PLANS:
        Plan.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "rank": rank,
                "max_broker_accounts": accounts,
                # Traders and followers are capped by the accounts they run on; None = no
                # separate cap, 0 = not included in the plan.
                "max_traders": None if strategies else 0,
                "max_followers": None if copy else 0,
                "strategies_allowed": strategies,
                "copy_trading_allowed": copy,
                "premium_strategies_allowed": premium,
                "api_access_allowed": api,
                "trial_days": 7,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("billing", "Plan").objects.filter(slug__in=[p[1] for p in PLANS]).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
