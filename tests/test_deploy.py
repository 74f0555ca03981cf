"""Production settings pass Django's deployment checklist."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def production_env(**extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))},
        "SECRET_KEY": "x7Qp!vR2#mL9zK4$wT8&nB3^hF6*jD1@sG5%cV0(eY7)uA2-iO9_pE4+rW8=tQ3",
        "DEBUG": "false",
        "HTTPS": "true",
        "ALLOWED_HOSTS": "paydesk.example.com",
        "CHAT_ALLOWED_ORIGINS": "https://shop.example.com",
        **extra,
    }


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = check_deploy(production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_the_demo_checkout_is_on():
    result = check_deploy(production_env(DEMO_CHECKOUT="true"))

    assert result.returncode != 0
    assert "chat.W001" in result.stdout + result.stderr
