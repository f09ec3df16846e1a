// A Curator 5 participant in a leader election, driven over stdin/stdout by
// zk-recipes/tests/curator_leader_compat.rs, so Rust and Java participants can be
// put in one election.
//
// Usage: CuratorLeader latch|selector <connectString> <path> <id>
// Prints: STARTED, LEADER <ourPath> / NOTLEADER (latch), TAKE / RELEASED (selector),
//         PARTICIPANTS id[*],... (after "participants"), CLOSED (after "close").
// Reads: participants | release (selector: end the current leadership) | close

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.concurrent.Semaphore;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.retry.RetryOneTime;

public class CuratorLeader {
    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static String describe(Collection<Participant> participants) {
        StringBuilder sb = new StringBuilder();
        for (Participant p : participants) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(p.getId());
            if (p.isLeader()) {
                sb.append('*');
            }
        }
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        CuratorFramework client =
                CuratorFrameworkFactory.newClient(args[1], 10000, 5000, new RetryOneTime(100));
        client.start();
        client.blockUntilConnected();
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (mode.equals("latch")) {
            final LeaderLatch latch = new LeaderLatch(client, args[2], args[3]);
            latch.addListener(new LeaderLatchListener() {
                @Override
                public void isLeader() {
                    say("LEADER " + latch.getOurPath());
                }

                @Override
                public void notLeader() {
                    say("NOTLEADER");
                }
            });
            latch.start();
            say("STARTED");
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("participants")) {
                    say("PARTICIPANTS " + describe(latch.getParticipants()));
                } else if (line.equals("close")) {
                    latch.close();
                    break;
                }
            }
        } else {
            final Semaphore releases = new Semaphore(0);
            LeaderSelector selector = new LeaderSelector(client, args[2], new LeaderSelectorListenerAdapter() {
                @Override
                public void takeLeadership(CuratorFramework c) throws Exception {
                    say("TAKE");
                    releases.acquire();
                    say("RELEASED");
                }
            });
            selector.setId(args[3]);
            selector.start();
            say("STARTED");
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("participants")) {
                    say("PARTICIPANTS " + describe(selector.getParticipants()));
                } else if (line.equals("release")) {
                    releases.release();
                } else if (line.equals("close")) {
                    selector.close();
                    break;
                }
            }
        }
        client.close();
        say("CLOSED");
    }
}
