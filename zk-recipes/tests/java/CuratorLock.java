// A Curator 5 lock holder, driven over stdin/stdout by
// zk-recipes/tests/curator_lock_compat.rs, so Rust and Java holders can contend
// for one lock.
//
// Usage: CuratorLock mutex|read|write|semaphore <connectString> <path> [maxLeases]
// Prints: STARTED, ACQUIRED <node path> / TIMEOUT (after "acquire [ms]"),
//         RELEASED (after "release"), REVOCABLE (after "revocable"), then
//         REVOKE_REQUESTED whenever its revocation listener fires, REVOKED (after
//         "revoke <node>"), CLOSED (after "close"); ERROR <exception> when a
//         command fails.
// Reads: acquire | acquire <ms> | release | revocable | revoke <node> | close
//
// A mutex (or half of a read/write lock) is acquired and released on the main
// thread, as Curator's re-entrancy is per thread: "acquire" without a timeout
// blocks the reading of further commands until it holds. A semaphore's
// "release" returns the lease taken last.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.locks.Revoker;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.utils.ZKPaths;

public class CuratorLock {
    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /** The node this thread holds: Curator's protected getLockPath(). */
    private static String lockPath(InterProcessMutex mutex) throws Exception {
        for (Class<?> c = mutex.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Method m = c.getDeclaredMethod("getLockPath");
                m.setAccessible(true);
                return (String) m.invoke(mutex);
            } catch (NoSuchMethodException e) {
                // Look in the superclass.
            }
        }
        throw new IllegalStateException("no getLockPath on " + mutex.getClass());
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String path = args[2];
        CuratorFramework client =
                CuratorFrameworkFactory.newClient(args[1], 10000, 5000, new RetryOneTime(100));
        client.start();
        client.blockUntilConnected();
        InterProcessMutex mutex = null;
        InterProcessSemaphoreV2 semaphore = null;
        switch (mode) {
            case "mutex":
                mutex = new InterProcessMutex(client, path);
                break;
            case "read":
                mutex = new InterProcessReadWriteLock(client, path).readLock();
                break;
            case "write":
                mutex = new InterProcessReadWriteLock(client, path).writeLock();
                break;
            case "semaphore":
                semaphore = new InterProcessSemaphoreV2(client, path, Integer.parseInt(args[3]));
                break;
            default:
                throw new IllegalArgumentException("unknown mode " + mode);
        }
        Deque<Lease> leases = new ArrayDeque<>();
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        say("STARTED");
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split(" ");
            try {
                if (words[0].equals("acquire")) {
                    Long ms = words.length > 1 ? Long.parseLong(words[1]) : null;
                    if (mutex != null) {
                        boolean got = true;
                        if (ms == null) {
                            mutex.acquire();
                        } else {
                            got = mutex.acquire(ms, TimeUnit.MILLISECONDS);
                        }
                        say(got ? "ACQUIRED " + lockPath(mutex) : "TIMEOUT");
                    } else {
                        Lease lease = ms == null
                                ? semaphore.acquire()
                                : semaphore.acquire(ms, TimeUnit.MILLISECONDS);
                        if (lease == null) {
                            say("TIMEOUT");
                        } else {
                            leases.push(lease);
                            say("ACQUIRED "
                                    + ZKPaths.makePath(path, "leases", lease.getNodeName()));
                        }
                    }
                } else if (words[0].equals("release")) {
                    if (mutex != null) {
                        mutex.release();
                    } else {
                        leases.pop().close();
                    }
                    say("RELEASED");
                } else if (words[0].equals("revocable")) {
                    mutex.makeRevocable(m -> say("REVOKE_REQUESTED"));
                    say("REVOCABLE");
                } else if (words[0].equals("revoke")) {
                    Revoker.attemptRevoke(client, words[1]);
                    say("REVOKED");
                } else if (words[0].equals("close")) {
                    break;
                }
            } catch (Exception e) {
                say("ERROR " + e);
            }
        }
        client.close();
        say("CLOSED");
    }
}
