using System.Text.Json;
using Grpc.Core;

namespace EdgeProfile.Cli.Partner;

/// <summary>
/// What a partner keeps after enrolling: its id, the kind the hub enrolled it as, the long-lived credential and the
/// hub that issued it (plus the organisation's pseudonymisation key, base64). Stored as <c>credential.json</c> in the
/// partner's state directory, readable by its owner only, so that joining again needs no new token.
/// </summary>
public sealed record PartnerCredential(string PartnerId, string Kind, string Credential, string HubUrl, string? PseudonymKey)
{
    /// <summary>The file's name in the state directory.</summary>
    public const string FileName = "credential.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary><c>~/.edgeprofile/partner-ID</c>.</summary>
    public static string DefaultDirectory(string partnerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(partnerId);
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".edgeprofile", "partner-" + partnerId);
    }

    /// <summary>The credential stored in <paramref name="directory"/>, or null when there is none yet.</summary>
    public static PartnerCredential? Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var credential = JsonSerializer.Deserialize<PartnerCredential>(File.ReadAllText(path), Json);
            return credential is { PartnerId.Length: > 0, Credential.Length: > 0 }
                ? credential
                : throw new CliException($"{path} has no partner id or credential; delete it and join again with a new token", ExitCodes.Usage);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path} cannot be read ({ex.Message}); delete it and join again with a new token", ExitCodes.Usage);
        }
    }

    /// <summary>Writes the credential to <paramref name="directory"/> (created owner-only), as a file only its owner can
    /// read (mode 600), replacing any earlier one at once.</summary>
    public string Save(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var path = Path.Combine(directory, FileName);
        var tmp = path + ".tmp";
        // Created owner-only before the secret is written, so that it is never readable by others, even briefly.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(tmp, options))
        {
            JsonSerializer.Serialize(stream, this, Json);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode is masked by the umask and does not apply to an existing file.
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(tmp, path, overwrite: true);
        return path;
    }

    /// <summary>The metadata every federation call carries: <c>x-ep-store</c> and the bearer credential.</summary>
    public Metadata Headers() => new()
    {
        { "x-ep-store", PartnerId },
        { "authorization", "Bearer " + Credential },
    };

    /// <summary>Leaves the secrets out of logs and exception messages.</summary>
    public override string ToString() => $"PartnerCredential {{ PartnerId = {PartnerId}, Kind = {Kind}, HubUrl = {HubUrl} }}";
}
