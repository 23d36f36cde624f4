namespace EdgeProfile.Cli;

/// <summary>Process exit codes of <c>edgeprofile</c>.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and failed (hub unreachable, refused, not found, broker error...).</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or configuration: unknown option, bad value, a setting that fails validation.</summary>
    public const int Usage = 2;

    /// <summary>Stopped by Ctrl-C (SIGINT), as shells report it.</summary>
    public const int Interrupted = 130;
}
