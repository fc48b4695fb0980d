"""E-mails of the sign-up (accounts.services.signup_request): the confirmation link, and the
note to an account's owner that someone signed up with their address."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_support_group"),
    ]

    operations = [
        migrations.AlterField(
            model_name="emaildelivery",
            name="kind",
            field=models.CharField(
                choices=[
                    ("activation", "Activation link"),
                    ("password_reset", "Password reset"),
                    ("signup_confirm", "Sign-up confirmation link"),
                    ("signup_existing", "Sign-up with an address that has an account"),
                ],
                max_length=16,
            ),
        ),
    ]
