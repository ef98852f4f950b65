"""CronJobs: no controller below makes them ready or not; each copy schedules its own Jobs.

The Jobs a CronJob creates belong to the cluster that runs it (their owner is the copy), so
only the CronJob itself is synced, and it is ready once it exists.
"""

from __future__ import annotations

from pytest_syncer.syncer.handlers.base import KindHandler, always_ready

HANDLER = KindHandler("batch/v1", "CronJob", "cronjobs", always_ready)
