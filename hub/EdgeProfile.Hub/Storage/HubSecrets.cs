using System.Security.Cryptography;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hosting;
using EdgeProfile.Hub.Enrollment;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub.Storage;

/// <summary>The organisation's pseudonymisation key and the operator token, loaded (or created once) at start.</summary>
internal sealed class HubSecrets
{
    public const int PseudonymKeyLength = 32;

    private readonly HubOptions _options;
    private readonly HubPaths _paths;
    private byte[]? _pseudonymKey;
    private Pseudonymizer? _pseudonymizer;
    private byte[]? _operatorTokenHash;
    private string? _operatorToken;

    public HubSecrets(IOptions<HubOptions> options, HubPaths paths)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _paths = paths;
    }

    /// <summary>A copy of the key every store uses for HMAC pseudonyms.</summary>
    public byte[] PseudonymKey => (byte[])(_pseudonymKey ?? throw NotLoaded()).Clone();

    public Pseudonymizer Pseudonymizer => _pseudonymizer ?? throw NotLoaded();

    public string OperatorToken => _operatorToken ?? throw NotLoaded();

    /// <summary>Where the generated operator token lives; null when it comes from Hub:OperatorToken.</summary>
    public string? OperatorTokenFile { get; private set; }

    /// <summary>True when this start generated the operator token file.</summary>
    public bool OperatorTokenCreated { get; private set; }

    public void Load()
    {
        LoadPseudonymKey();
        LoadOperatorToken();
    }

    /// <summary>Constant-time check of a presented operator token.</summary>
    public bool IsOperatorToken(string? presented) =>
        presented is not null && _operatorTokenHash is not null && Credentials.Matches(presented, _operatorTokenHash);

    private void LoadPseudonymKey()
    {
        var path = _paths.PseudonymKey;
        var text = SecretFile.TryRead(path);
        if (text is null)
        {
            text = Convert.ToBase64String(RandomNumberGenerator.GetBytes(PseudonymKeyLength));
            SecretFile.Create(path, text);
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            key = [];
        }

        if (key.Length != PseudonymKeyLength)
        {
            throw new ConfigurationException(
                $"Hub:DataDir: '{path}' is not a valid pseudonymisation key (expected {PseudonymKeyLength} bytes in base64); restore it from backup — a new key would stop identifiers from matching");
        }

        _pseudonymKey = key;
        _pseudonymizer = new Pseudonymizer(key);
    }

    private void LoadOperatorToken()
    {
        if (!string.IsNullOrEmpty(_options.OperatorToken))
        {
            SetOperatorToken(_options.OperatorToken);
            return;
        }

        var path = _paths.OperatorToken;
        var token = SecretFile.TryRead(path);
        if (token is null)
        {
            token = Credentials.NewSecret();
            SecretFile.Create(path, token);
            OperatorTokenCreated = true;
        }
        else if (token.Length < HubOptionsValidator.MinOperatorTokenLength)
        {
            throw new ConfigurationException(
                $"Hub:OperatorToken: '{path}' holds no usable token; delete the file to generate a new one, or set Hub:OperatorToken");
        }

        OperatorTokenFile = path;
        SetOperatorToken(token);
    }

    private void SetOperatorToken(string token)
    {
        _operatorToken = token;
        _operatorTokenHash = Credentials.Hash(token);
    }

    private static InvalidOperationException NotLoaded() => new("The hub has not started: its secrets are not loaded yet.");
}
