using System.Text.RegularExpressions;
using EdgeProfile.Hub.Storage;
using Microsoft.AspNetCore.Identity;

namespace EdgeProfile.Hub.Operators;

/// <summary>
/// The operator web UI's local accounts, in the hub database: passwords stored only as ASP.NET Core Identity's
/// PBKDF2 hashes (HMAC-SHA512, 100,000 iterations, salted), roles from <see cref="OperatorRoles"/>. The first admin is
/// created with the operator token (<c>edgeprofile users add NAME --role admin</c>); admins manage the rest in the UI.
/// </summary>
internal sealed partial class OperatorAccounts
{
    /// <summary>Shortest accepted password.</summary>
    public const int MinPasswordLength = 10;

    private static readonly PasswordHasher<string> Hasher = new();

    // Verified against when the name is unknown, so a wrong name costs as much time as a wrong password.
    private static readonly string DummyHash = Hasher.HashPassword("", "not a password of anyone's");

    private readonly HubDatabase _db;
    private readonly TimeProvider _time;

    public OperatorAccounts(HubDatabase db, TimeProvider time)
    {
        _db = db;
        _time = time;
    }

    /// <summary>The rule a sign-in name must follow.</summary>
    public const string NameRule = "1-64 characters: letters, digits, '.', '_', '-', '@'";

    /// <summary>Every account, by name.</summary>
    public Task<IReadOnlyList<OperatorAccount>> ListAsync(CancellationToken cancellationToken) =>
        _db.ReadAsync<IReadOnlyList<OperatorAccount>>(connection =>
        {
            using var command = Sql.Command(connection, null, "SELECT name, role, partner, created_at, disabled FROM operator_accounts ORDER BY name;");
            using var reader = command.ExecuteReader();
            var list = new List<OperatorAccount>();
            while (reader.Read())
            {
                list.Add(Read(reader));
            }

            return list;
        }, cancellationToken);

    /// <summary>The account named <paramref name="name"/>, or null.</summary>
    public Task<OperatorAccount?> FindAsync(string name, CancellationToken cancellationToken) =>
        _db.ReadAsync(connection =>
        {
            using var command = Sql.Command(connection, null, "SELECT name, role, partner, created_at, disabled FROM operator_accounts WHERE name = @n;", ("@n", name));
            using var reader = command.ExecuteReader();
            return reader.Read() ? Read(reader) : null;
        }, cancellationToken);

    /// <summary>
    /// Creates an account. Throws <see cref="OperatorAccountException"/> (400 for a bad name, role, password or partner,
    /// 409 when the name is taken).
    /// </summary>
    public async Task<OperatorAccount> CreateAsync(string? name, string? role, string? password, string? partner, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (!IsValidName(name))
        {
            problems.Add($"name: {NameRule}");
        }

        var normalized = OperatorRoles.Normalize(role);
        if (normalized is null)
        {
            problems.Add($"role: one of {string.Join(", ", OperatorRoles.All)}");
        }

        problems.AddRange(PasswordProblems(password));
        if (normalized == OperatorRoles.Partner && !StoreIdsValid(partner))
        {
            problems.Add("partner: a partner user needs the partner's client id (its enrolled id)");
        }
        else if (normalized is not null && normalized != OperatorRoles.Partner && !string.IsNullOrEmpty(partner))
        {
            problems.Add("partner: only a user with role partner belongs to a partner");
        }

        if (problems.Count > 0)
        {
            throw new OperatorAccountException(400, string.Join("; ", problems));
        }

        var account = new OperatorAccount(name!, normalized!, normalized == OperatorRoles.Partner ? partner : null, _time.GetUtcNow(), Disabled: false);
        var hash = Hasher.HashPassword(account.Name, password!);
        var created = await _db.WriteAsync((connection, tx) =>
        {
            if (Sql.Text(connection, tx, "SELECT name FROM operator_accounts WHERE name = @n;", ("@n", account.Name)) is not null)
            {
                return false;
            }

            Sql.Exec(connection, tx, "INSERT INTO operator_accounts (name, password_hash, role, partner, created_at, disabled) VALUES (@n, @h, @r, @p, @t, 0);",
                ("@n", account.Name), ("@h", hash), ("@r", account.Role), ("@p", (object?)account.Partner ?? DBNull.Value), ("@t", account.CreatedAt.ToUnixTimeMilliseconds()));
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return created ? account : throw new OperatorAccountException(409, $"an account named '{account.Name}' exists");
    }

    /// <summary>Changes an account's role, password or disabled flag (each optional). 404 when it does not exist.</summary>
    public async Task<OperatorAccount> UpdateAsync(string name, string? role, string? password, bool? disabled, CancellationToken cancellationToken)
    {
        var normalized = role is null ? null : OperatorRoles.Normalize(role) ?? throw new OperatorAccountException(400, $"role: one of {string.Join(", ", OperatorRoles.All)}");
        if (password is not null && PasswordProblems(password).FirstOrDefault() is { } problem)
        {
            throw new OperatorAccountException(400, problem);
        }

        var hash = password is null ? null : Hasher.HashPassword(name, password);
        var changed = await _db.WriteAsync((connection, tx) =>
        {
            if (Sql.Text(connection, tx, "SELECT role FROM operator_accounts WHERE name = @n;", ("@n", name)) is not { } current)
            {
                return false;
            }

            if ((normalized == OperatorRoles.Partner) != (current == OperatorRoles.Partner) && normalized is not null)
            {
                throw new OperatorAccountException(400, "role: a partner user stays a partner user (create a new account instead)");
            }

            if (normalized is not null)
            {
                Sql.Exec(connection, tx, "UPDATE operator_accounts SET role = @r WHERE name = @n;", ("@n", name), ("@r", normalized));
            }

            if (hash is not null)
            {
                Sql.Exec(connection, tx, "UPDATE operator_accounts SET password_hash = @h WHERE name = @n;", ("@n", name), ("@h", hash));
            }

            if (disabled is { } d)
            {
                Sql.Exec(connection, tx, "UPDATE operator_accounts SET disabled = @d WHERE name = @n;", ("@n", name), ("@d", d ? 1 : 0));
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
        return changed && await FindAsync(name, cancellationToken).ConfigureAwait(false) is { } account
            ? account
            : throw new OperatorAccountException(404, $"no account named '{name}'");
    }

    /// <summary>The account when <paramref name="password"/> is its password and it is not disabled; otherwise null.</summary>
    public async Task<OperatorAccount?> VerifyAsync(string? name, string? password, CancellationToken cancellationToken)
    {
        if (!IsValidName(name) || string.IsNullOrEmpty(password))
        {
            Hasher.VerifyHashedPassword("", DummyHash, password ?? "");
            return null;
        }

        var row = await _db.ReadAsync(connection =>
        {
            using var command = Sql.Command(connection, null, "SELECT password_hash FROM operator_accounts WHERE name = @n;", ("@n", name!));
            return command.ExecuteScalar() as string;
        }, cancellationToken).ConfigureAwait(false);
        var result = Hasher.VerifyHashedPassword(name!, row ?? DummyHash, password);
        if (row is null || result == PasswordVerificationResult.Failed)
        {
            return null;
        }

        var account = await FindAsync(name!, cancellationToken).ConfigureAwait(false);
        return account is { Disabled: false } ? account : null;
    }

    /// <summary>Whether <paramref name="name"/> is a valid sign-in name.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    private static IEnumerable<string> PasswordProblems(string? password)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinPasswordLength)
        {
            yield return $"password: at least {MinPasswordLength} characters";
        }
        else if (password.Length > 256)
        {
            yield return "password: at most 256 characters";
        }
    }

    private static bool StoreIdsValid(string? partner) => Enrollment.StoreIds.IsValid(partner);

    private static OperatorAccount Read(System.Data.Common.DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        DateTimeOffset.FromUnixTimeMilliseconds(Sql.Long(reader.GetValue(3)) ?? 0),
        Sql.IsTrue(reader.GetValue(4)));

    [GeneratedRegex(@"^[A-Za-z0-9._@-]{1,64}$")]
    private static partial Regex NamePattern();
}

/// <summary>A refused account change, with the HTTP status the API answers it with.</summary>
internal sealed class OperatorAccountException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OperatorAccountException(int status, string message)
        : base(message) => Status = status;

    /// <summary>Creates the exception.</summary>
    public OperatorAccountException()
        : this(400, "invalid account")
    {
    }

    /// <summary>Creates the exception.</summary>
    public OperatorAccountException(string message)
        : this(400, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public OperatorAccountException(string message, Exception innerException)
        : base(message, innerException) => Status = 400;

    /// <summary>400, 404 or 409.</summary>
    public int Status { get; }
}
