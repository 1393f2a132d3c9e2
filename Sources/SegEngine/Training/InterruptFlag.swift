#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C during training asks for a checkpoint and a clean stop instead of killing the process.
public enum InterruptFlag {
    nonisolated(unsafe) private static var raised: sig_atomic_t = 0

    public static var isRaised: Bool { raised != 0 }

    public static func install() {
        raised = 0
        signal(SIGINT) { _ in
            if InterruptFlag.raised != 0 { _exit(130) }  // a second Ctrl-C stops at once
            InterruptFlag.raised = 1
        }
    }

    public static func uninstall() {
        signal(SIGINT, SIG_DFL)
    }
}
