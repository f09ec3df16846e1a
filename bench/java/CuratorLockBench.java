// Curator 5.4's side of the zk-bench lock benchmark (issue 11).
//
// It does what `zk-bench lock-client --impl zk-recipes` does (see
// zk-bench/src/locks/client.rs and lines.rs) with Curator's own InterProcessMutex,
// and prints the same lines:
//
//   --mode uncontended: --warmup untimed acquire+release cycles on --path, then
//     --cycles timed ones (each timed alone, System.nanoTime), then
//     "LOCKRESULT impl=curator cycles=<n> p50_ns=<ns> p99_ns=<ns>".
//   --mode contended: "READY", then waits for "GO" on stdin, then loops acquire ->
//     hold --hold-ms -> release, --warmup + --cycles times, and prints
//     "acquired <cycle> <us>" / "released <cycle> <us>" for each, the wall clock
//     (Instant.now()) in microseconds since the Unix epoch, taken just after
//     acquire() returned and just before release() was called.
//
// Both loops also end at --time-limit-secs. The client is
// CuratorFrameworkFactory.newClient(cs, 60000, 15000, new RetryOneTime(100)).
//
// Built by scripts/bench (`scripts/bench locks`) with javac against Debian's
// Curator, ZooKeeper, Guava and slf4j jars.

import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryOneTime;

public final class CuratorLockBench {
    static long percentile(long[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(1, Math.min(rank, sorted.length)) - 1];
    }

    static long nowMicros() {
        Instant t = Instant.now();
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
    }

    static void uncontended(InterProcessMutex mutex, int warmup, int cycles, long deadline)
            throws Exception {
        long[] samples = new long[cycles];
        int timed = 0;
        for (int i = 0; i < warmup + cycles; i++) {
            if (System.nanoTime() >= deadline) {
                break;
            }
            long started = System.nanoTime();
            mutex.acquire();
            mutex.release();
            if (i >= warmup) {
                samples[timed++] = System.nanoTime() - started;
            }
        }
        if (timed == 0) {
            throw new IllegalStateException("no timed cycle within the time limit");
        }
        long[] s = Arrays.copyOf(samples, timed);
        Arrays.sort(s);
        System.out.println("LOCKRESULT impl=curator cycles=" + timed + " p50_ns="
            + percentile(s, 50.0) + " p99_ns=" + percentile(s, 99.0));
    }

    static void contended(InterProcessMutex mutex, int warmup, int cycles, long holdMs,
            long limitNs) throws Exception {
        System.out.println("READY");
        System.out.flush();
        byte[] go = new byte[3];
        int n = 0;
        while (n < go.length) {
            int r = System.in.read(go, n, go.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        if (n != 3 || go[0] != 'G' || go[1] != 'O' || go[2] != '\n') {
            throw new IllegalStateException("expected GO on stdin");
        }
        // The time limit counts from GO, as in the Rust client.
        long deadline = System.nanoTime() + limitNs;
        int total = warmup + cycles;
        long[] acquired = new long[total];
        long[] released = new long[total];
        int done = 0;
        for (int i = 0; i < total; i++) {
            if (System.nanoTime() >= deadline) {
                break;
            }
            mutex.acquire();
            acquired[i] = nowMicros();
            Thread.sleep(holdMs);
            released[i] = nowMicros();
            mutex.release();
            done++;
        }
        StringBuilder out = new StringBuilder(done * 64);
        for (int i = 0; i < done; i++) {
            out.append("acquired ").append(i).append(' ').append(acquired[i]).append('\n');
            out.append("released ").append(i).append(' ').append(released[i]).append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option, got " + argv[i]);
            }
            a.put(argv[i].substring(2), argv[i + 1]);
        }
        String addr = a.get("addr");
        String path = a.get("path");
        String mode = a.get("mode");
        if (addr == null || path == null || mode == null) {
            throw new IllegalArgumentException("--addr, --path and --mode are required");
        }
        int cycles = Integer.parseInt(a.getOrDefault("cycles", "2000"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "500"));
        long holdMs = Long.parseLong(a.getOrDefault("hold-ms", "2"));
        long limitNs = Long.parseLong(a.getOrDefault("time-limit-secs", "120")) * 1_000_000_000L;

        CuratorFramework client =
            CuratorFrameworkFactory.newClient(addr, 60000, 15000, new RetryOneTime(100));
        client.start();
        if (!client.blockUntilConnected(15, java.util.concurrent.TimeUnit.SECONDS)) {
            throw new IllegalStateException("not connected within 15 s");
        }
        InterProcessMutex mutex = new InterProcessMutex(client, path);
        switch (mode) {
            case "uncontended" -> uncontended(mutex, warmup, cycles, System.nanoTime() + limitNs);
            case "contended" -> contended(mutex, warmup, cycles, holdMs, limitNs);
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
        System.out.flush();
        client.close();
    }
}
