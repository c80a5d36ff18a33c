from podbrief.cli import app

app()
