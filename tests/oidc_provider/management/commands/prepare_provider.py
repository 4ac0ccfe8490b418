"""Create the provider's database, its client (the service under test) and its people."""

import json

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from oauth2_provider.models import Application


class Command(BaseCommand):
    help = "Migrate, then register the client and the people the tests sign in as."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--redirect-uri", required=True)
        parser.add_argument(
            "--people", required=True,
            help='A JSON file: [{"username", "password", "email", "first_name", "last_name", "groups": [...]}]',
        )

    def handle(self, *args, **options):
        call_command("migrate", verbosity=0, interactive=False)
        Application.objects.create(
            name="Contract Monitor",
            client_id=options["client_id"],
            client_secret=options["client_secret"],  # stored hashed
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=options["redirect_uri"],
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=False,
        )
        with open(options["people"], encoding="utf-8") as handle:
            people = json.load(handle)
        for person in people:
            user = User.objects.create_user(
                person["username"],
                email=person["email"],
                password=person["password"],
                first_name=person.get("first_name", ""),
                last_name=person.get("last_name", ""),
            )
            for name in person.get("groups", []):
                user.groups.add(Group.objects.get_or_create(name=name)[0])
