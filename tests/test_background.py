"""Background work through Celery on Redis: a worker process on its own delivers a message."""

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from engine.core import Gongwen
from tests.support import deploy_bytes, ready_for, require
from tests.test_messages import RECEIVER

REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
def broker_url() -> str:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        require(False, "Redis at 127.0.0.1:6379")
    return f"{REDIS}/{random.randint(1, 15)}"


@pytest.fixture
def worker(settings, broker_url, tmp_path):
    env = {**os.environ, "GONGWEN_DATABASE_URL": settings.database_url, "GONGWEN_BROKER_URL": broker_url,
           "GONGWEN_FILES_DIR": str(settings.files_dir), "GONGWEN_SECRET_KEY": "worker-test"}
    gongwen_cli = Path(sys.executable).parent / "gongwen"
    process = subprocess.Popen([str(gongwen_cli), "worker", "--pool=solo", "--concurrency=1"], env=env,
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_celery_worker_delivers_messages_after_the_commit(settings, broker_url, org, worker):
    celery_side = Gongwen(settings.__class__(**{**settings.__dict__, "broker_url": broker_url}))
    deploy_bytes(celery_side, "receiver.bpmn", RECEIVER)
    unit = org.unit("city_office")
    instance = celery_side.runtime.start("receiver", owning_unit_id=unit.id, correlation={"doc": 1, "unit": unit.id})
    with celery_side.db.write() as session:
        celery_side.runtime.send_message(session, "签收回执", {"doc": 1, "unit": unit.id}, {"signed_by": "东海县"})

    leader = org.person("lyg.leader")
    deadline = time.monotonic() + 60
    while not ready_for(celery_side, leader) and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.2)
    tasks = ready_for(celery_side, leader)
    if not tasks:
        worker.terminate()
        pytest.fail("the worker did not deliver the message:\n" + worker.communicate(timeout=10)[0][-3000:])
    assert [t.instance_id for t in tasks] == [instance]
    celery_side.close()
