namespace EdgeProfile.Cli;

/// <summary>A failure the CLI reports as one line on stderr with a specific exit code.</summary>
public sealed class CliException : Exception
{
    /// <summary>Creates the exception; <paramref name="exitCode"/> is the process exit code (1 = failed, 2 = usage/config).</summary>
    public CliException(string message, int exitCode)
        : base(message)
    {
        ExitCode = exitCode;
    }

    /// <summary>Creates the exception with exit code 1.</summary>
    public CliException(string message)
        : this(message, ExitCodes.Failed)
    {
    }

    /// <summary>Creates the exception with exit code 1.</summary>
    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.Failed;
    }

    /// <summary>Creates the exception with exit code 1.</summary>
    public CliException()
    {
        ExitCode = ExitCodes.Failed;
    }

    /// <summary>The process exit code to return.</summary>
    public int ExitCode { get; }
}
