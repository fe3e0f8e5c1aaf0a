"""What the benchmark suites share: running a benchmark program in its own process, reading
its RESULT line, and describing the machine and the spread of the figures."""

import json
import os
import platform
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "benchmarks")


def run(program, *args):
    """Runs a benchmark program in its own process; returns its RESULT line as a dict."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, os.path.join(BENCH, program), *args], cwd=BENCH,
                          env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["wall_seconds"] = time.perf_counter() - start
    return result


def matmul_peak_gflops():
    """The machine's float32 matrix-multiply rate, GFLOP/s: the best of several 2048^3
    products in TensorFlow, as a practical peak."""
    code = ("import time, tensorflow as tf\n"
            "a = tf.random.normal((2048, 2048)); f = tf.function(lambda a: tf.matmul(a, a))\n"
            "f(a).numpy(); best = 1e9\n"
            "for _ in range(10):\n"
            "    t = time.perf_counter(); f(a).numpy(); best = min(best, time.perf_counter() - t)\n"
            "print('RESULT', 2 * 2048 ** 3 / best / 1e9)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    return float(out.stdout.split("RESULT")[-1])


def machine():
    model = "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def best_epoch_rate(result):
    """Images per second of a run's fastest timed epoch: this machine's speed drifts (phases
    at about half speed lasting seconds to minutes), and the fastest epoch is the least
    disturbed one."""
    return result["images"] / min(result["epoch_seconds"])


def spread(values):
    return f"{min(values):,.0f}-{max(values):,.0f}"


def memory_rows(memory, streamed_name, held_name):
    """Table rows `| images | streamed peak MiB | in memory peak MiB | streamed images/s |`
    from the results of runs named `streamed_name` and `held_name`, by number of images."""
    by_size, rows = {}, []
    for result in memory:
        by_size.setdefault(result["images"], {})[result["name"]] = result
    for images, pair in sorted(by_size.items()):
        streamed, held = pair[streamed_name], pair[held_name]
        rows.append(f"| {images:,} | {streamed['peak_memory_mib']:.0f} | "
                    f"{held['peak_memory_mib']:.0f} | {streamed['images_per_second']:,.0f} |")
    return rows
