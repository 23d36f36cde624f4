using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Profiles;

/// <summary>
/// Maps customer keys to global profile ids inside a write transaction. All keys of one delta belong to one customer:
/// unknown keys join the profile of the known ones, and keys that currently map to different profiles merge them
/// (union-find without splits). The larger profile wins, then the older; the loser's id stays findable as an alias.
/// Commands are prepared once per batch and reused for every delta.
/// </summary>
internal sealed class IdentityResolver : IDisposable
{
    private readonly SqliteCommand _find;
    private readonly SqliteCommand _insertKey;
    private readonly SqliteCommand _newProfile;
    private readonly SqliteCommand _profileInfo;
    private readonly SqliteCommand _addKeyCount;
    private readonly SqliteCommand _repointKeys;
    private readonly SqliteCommand _repointAliases;
    private readonly SqliteCommand _addAlias;
    private readonly SqliteCommand _deleteProfile;
    private readonly long _now;
    private readonly ILogger _logger;
    private readonly List<string> _missing = [];
    private readonly List<string> _found = [];

    public IdentityResolver(SqliteConnection connection, SqliteTransaction tx, long nowUnixMs, ILogger logger)
    {
        _now = nowUnixMs;
        _logger = logger;
        _find = Prepare(connection, tx, "SELECT profile_id FROM identity_keys WHERE customer_key = $key;", "$key");
        _insertKey = Prepare(connection, tx, "INSERT INTO identity_keys (customer_key, profile_id) VALUES ($key, $id);", "$key", "$id");
        _newProfile = Prepare(connection, tx,
            "INSERT INTO profiles (profile_id, created_at, key_count) VALUES ($id, $now, 0) ON CONFLICT (profile_id) DO NOTHING;", "$id", "$now");
        _profileInfo = Prepare(connection, tx, "SELECT seq, key_count FROM profiles WHERE profile_id = $id;", "$id");
        _addKeyCount = Prepare(connection, tx, "UPDATE profiles SET key_count = key_count + $n WHERE profile_id = $id;", "$n", "$id");
        _repointKeys = Prepare(connection, tx, "UPDATE identity_keys SET profile_id = $to WHERE profile_id = $from;", "$to", "$from");
        _repointAliases = Prepare(connection, tx, "UPDATE profile_aliases SET profile_id = $to WHERE profile_id = $from;", "$to", "$from");
        _addAlias = Prepare(connection, tx, "INSERT OR REPLACE INTO profile_aliases (old_id, profile_id) VALUES ($from, $to);", "$from", "$to");
        _deleteProfile = Prepare(connection, tx, "DELETE FROM profiles WHERE profile_id = $id;", "$id");
    }

    /// <summary>Links <paramref name="keys"/> (distinct, canonical) to one global profile and returns its id (without "ep:").</summary>
    public string Resolve(IReadOnlyList<string> keys)
    {
        _missing.Clear();
        _found.Clear();
        foreach (var key in keys)
        {
            _find.Parameters[0].Value = key;
            if (_find.ExecuteScalar() is string id)
            {
                if (!_found.Contains(id))
                {
                    _found.Add(id);
                }
            }
            else
            {
                _missing.Add(key);
            }
        }

        var profileId = _found.Count switch
        {
            0 => CreateProfile(),
            1 => _found[0],
            _ => Merge(_found),
        };

        if (_missing.Count > 0)
        {
            _insertKey.Parameters[1].Value = profileId;
            foreach (var key in _missing)
            {
                _insertKey.Parameters[0].Value = key;
                _insertKey.ExecuteNonQuery();
            }

            AddKeyCount(profileId, _missing.Count);
        }

        return profileId;
    }

    public void Dispose()
    {
        _find.Dispose();
        _insertKey.Dispose();
        _newProfile.Dispose();
        _profileInfo.Dispose();
        _addKeyCount.Dispose();
        _repointKeys.Dispose();
        _repointAliases.Dispose();
        _addAlias.Dispose();
        _deleteProfile.Dispose();
    }

    private string CreateProfile()
    {
        _newProfile.Parameters[1].Value = _now;
        while (true)
        {
            // 64 random bits: short enough to read out, collisions retried.
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            _newProfile.Parameters[0].Value = id;
            if (_newProfile.ExecuteNonQuery() == 1)
            {
                return id;
            }
        }
    }

    private string Merge(List<string> ids)
    {
        string winner = ids[0];
        var (winnerSeq, winnerCount) = Info(winner);
        for (var i = 1; i < ids.Count; i++)
        {
            var (seq, count) = Info(ids[i]);
            if (count > winnerCount || (count == winnerCount && seq < winnerSeq))
            {
                (winner, winnerSeq, winnerCount) = (ids[i], seq, count);
            }
        }

        foreach (var loser in ids)
        {
            if (loser == winner)
            {
                continue;
            }

            var (_, loserCount) = Info(loser);
            Set(_repointKeys, winner, loser);
            Set(_repointAliases, winner, loser);
            Set(_addAlias, loser, winner);
            _deleteProfile.Parameters[0].Value = loser;
            _deleteProfile.ExecuteNonQuery();
            AddKeyCount(winner, loserCount);
            HubLog.ProfilesMerged(_logger, loser, winner);
        }

        return winner;
    }

    private (long Seq, long KeyCount) Info(string id)
    {
        _profileInfo.Parameters[0].Value = id;
        using var reader = _profileInfo.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException($"identity_keys points to missing profile '{id}'.");
        }

        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private void AddKeyCount(string id, long n)
    {
        _addKeyCount.Parameters[0].Value = n;
        _addKeyCount.Parameters[1].Value = id;
        _addKeyCount.ExecuteNonQuery();
    }

    private static void Set(SqliteCommand command, string first, string second)
    {
        command.Parameters[0].Value = first;
        command.Parameters[1].Value = second;
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Prepare(SqliteConnection connection, SqliteTransaction tx, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }
}
