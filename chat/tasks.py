from celery import shared_task

from chat.emails import transcript_email_send


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_transcript(conversation_id: int) -> None:
    transcript_email_send(conversation_id)
