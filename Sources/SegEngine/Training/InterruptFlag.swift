#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C during training asks for a checkpoint and a clean stop instead of killing the process.
public enum InterruptFlag {
    nonisolated(unsafe) private static var raised: sig_atomic_t = 0
    nonisolated(unsafe) private static var previousHandler: (@convention(c) (Int32) -> Void)? = nil
    nonisolated(unsafe) private static var previousMask = sigset_t()

    public static var isRaised: Bool { raised != 0 }

    /// Asks a running training to checkpoint and stop, as a first Ctrl-C does (for applications that embed the
    /// trainer, and for tests: a signal raised on a thread that blocks SIGINT never reaches the handler).
    public static func request() {
        raised = 1
    }

    /// Installs the handler and unblocks SIGINT in the calling thread: a process started with SIGINT blocked
    /// (Foundation's `Process` passes its caller's signal mask on) would otherwise never see Ctrl-C.
    public static func install() {
        raised = 0
        previousHandler = signal(SIGINT) { _ in
            if InterruptFlag.raised != 0 { _exit(130) }  // a second Ctrl-C stops at once
            InterruptFlag.raised = 1
        }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, &previousMask)
    }

    /// Puts back the signal mask and the handler that `install` replaced.
    public static func uninstall() {
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        signal(SIGINT, previousHandler)
    }
}
