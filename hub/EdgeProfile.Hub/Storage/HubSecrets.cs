using System.Security.Cryptography;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hosting;
using EdgeProfile.Hub.Enrollment;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub.Storage;

/// <summary>
/// The organisation's pseudonymisation key and the operator token, loaded (or created once) at start. On SQLite they
/// are files in the data directory; on PostgreSQL they live in the database (<c>hub_secrets</c>) so that every hub
/// replica uses the same ones — the first replica to start creates them (from its files, if it has them).
/// </summary>
internal sealed class HubSecrets
{
    public const int PseudonymKeyLength = 32;

    private readonly HubOptions _options;
    private readonly HubPaths _paths;
    private readonly HubDatabase _db;
    private byte[]? _pseudonymKey;
    private Pseudonymizer? _pseudonymizer;
    private byte[]? _operatorTokenHash;
    private string? _operatorToken;

    public HubSecrets(IOptions<HubOptions> options, HubPaths paths, HubDatabase db)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _paths = paths;
        _db = db;
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
        if (_db.IsShared)
        {
            var shared = Shared("pseudonym_key", text ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(PseudonymKeyLength)));
            if (text is not null && text != shared)
            {
                throw new ConfigurationException(
                    $"Hub:DataDir: '{path}' differs from the pseudonymisation key in {_db.Location}; the database's key is the organisation's — remove the file, or restore the database's key");
            }

            text = shared;
        }
        else if (text is null)
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
        if (_db.IsShared)
        {
            // Every replica answers to the same token; each keeps a copy in its data directory for the CLI.
            var generated = token ?? Credentials.NewSecret();
            var shared = Shared("operator_token", generated);
            if (token is null)
            {
                SecretFile.Create(path, shared);
                OperatorTokenCreated = shared == generated;
            }
            else if (token != shared)
            {
                throw new ConfigurationException(
                    $"Hub:OperatorToken: '{path}' differs from the operator token in {_db.Location}; delete the file to take the database's token, or set Hub:OperatorToken");
            }

            token = shared;
        }
        else if (token is null)
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

    // Inserts the candidate unless a replica stored one first; returns the stored value.
    private string Shared(string name, string candidate) =>
        _db.WriteAsync((connection, tx) =>
        {
            Sql.Exec(connection, tx, "INSERT INTO hub_secrets (name, value) VALUES (@n, @v) ON CONFLICT (name) DO NOTHING;", ("@n", name), ("@v", candidate));
            return Sql.Text(connection, tx, "SELECT value FROM hub_secrets WHERE name = @n;", ("@n", name))!;
        }, CancellationToken.None).GetAwaiter().GetResult();

    private static InvalidOperationException NotLoaded() => new("The hub has not started: its secrets are not loaded yet.");
}
