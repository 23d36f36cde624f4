using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Hub.Storage;

/// <summary>
/// One-off statements with named parameters, on the writer's transaction or (with <c>tx</c> null) inside the
/// connection's current one, for the hub's less frequent paths (hot paths keep prepared commands). The SQL is
/// written once for both backends: <c>@name</c> parameters, <c>ON CONFLICT</c>, no engine-specific functions except
/// through <see cref="Dialect(DbConnection)"/>.
/// </summary>
internal static class Sql
{
    public static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parameters);
        var command = connection.CreateCommand();
        if (tx is not null)
        {
            command.Transaction = tx;
        }

        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.AddParameter(name, value);
        }

        return command;
    }

    public static int Exec(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, tx, sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static string? Text(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, tx, sql, parameters);
        return command.ExecuteScalar() as string;
    }

    public static List<string> Texts(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, tx, sql, parameters);
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    /// <summary>The SQL that differs between the backends, for a connection of either.</summary>
    public static HubDialect Dialect(DbConnection connection) =>
        connection is SqliteConnection ? HubDialect.Sqlite : HubDialect.Postgres;

    /// <summary>A 0/1 or boolean scalar (SQLite has no boolean type, PostgreSQL's comparisons return one).</summary>
    public static bool IsTrue(object? value) => value switch
    {
        bool b => b,
        long l => l != 0,
        int i => i != 0,
        _ => false,
    };

    /// <summary>An integer scalar of any width (PostgreSQL literals are int4, counts int8, sums numeric).</summary>
    public static long? Long(object? value) => value switch
    {
        null or DBNull => null,
        long l => l,
        int i => i,
        short s => s,
        decimal d => (long)d,
        _ => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>A statement reused within <paramref name="tx"/>, with parameters whose values are set before each run.</summary>
    public static DbCommand Prepared(DbConnection connection, DbTransaction? tx, string sql, params string[] names)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(names);
        var command = connection.CreateCommand();
        if (tx is not null)
        {
            command.Transaction = tx;
        }

        command.CommandText = sql;
        foreach (var name in names)
        {
            command.AddParameter(name);
        }

        command.PrepareLocal();
        return command;
    }

    /// <summary>Adds a named parameter with a value (null becomes SQL NULL).</summary>
    public static DbParameter AddParameter(this DbCommand command, string name, object? value)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Adds a named parameter whose value is set before each execution.</summary>
    public static DbParameter AddParameter(this DbCommand command, string name)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Adds a typed named parameter whose value is set before each execution.</summary>
    public static DbParameter AddParameter(this DbCommand command, string name, DbType type)
    {
        var parameter = command.AddParameter(name);
        parameter.DbType = type;
        return parameter;
    }

    /// <summary>
    /// Prepares a statement reused within one transaction on SQLite (compiling it once pays off there). PostgreSQL
    /// needs parameter types before preparing; Npgsql's automatic preparation (<c>Max Auto Prepare</c>) covers it.
    /// </summary>
    public static void PrepareLocal(this DbCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command is SqliteCommand)
        {
            command.Prepare();
        }
    }
}

/// <summary>The few SQL fragments that differ between SQLite and PostgreSQL.</summary>
internal sealed class HubDialect
{
    public static readonly HubDialect Sqlite = new(postgres: false);
    public static readonly HubDialect Postgres = new(postgres: true);

    private HubDialect(bool postgres)
    {
        IsPostgres = postgres;
    }

    public bool IsPostgres { get; }

    /// <summary>1-based position of <paramref name="needle"/> in <paramref name="haystack"/>, 0 when absent.</summary>
    public string Position(string haystack, string needle) =>
        IsPostgres ? $"strpos({haystack}, {needle})" : $"instr({haystack}, {needle})";

    /// <summary>The kind of a customer key column (<c>loyalty</c> of <c>loyalty:123</c>).</summary>
    public string KeyKind(string column) =>
        IsPostgres ? $"split_part({column}, ':', 1)" : $"substr({column}, 1, instr({column}, ':') - 1)";

    /// <summary>The larger of two values (SQLite's scalar max, PostgreSQL's greatest).</summary>
    public string Greatest(string a, string b) => IsPostgres ? $"greatest({a}, {b})" : $"max({a}, {b})";

    /// <summary>The smaller of two values (SQLite's scalar min, PostgreSQL's least).</summary>
    public string Least(string a, string b) => IsPostgres ? $"least({a}, {b})" : $"min({a}, {b})";

    /// <summary>The column that orders feature names as first registered (SQLite's rowid; a sequence on PostgreSQL).</summary>
    public string InsertionOrder => IsPostgres ? "seq" : "rowid";
}
