//! The bodies of the graph calls, and their turning into domain types.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::lenient;
use crate::domain::graph::{GraphName, NewGraph};
use crate::domain::{Code, ParamError};
use crate::http::extract::Body;

/// A body that carries nothing (stop, restart, add backup): `{}`, or no body at all.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmptyBody {}

impl Body for EmptyBody {
    const EMPTY_IS_OBJECT: bool = true;
}

/// `POST /v2/{project_id}/graphs`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateGraphBody {
    #[schema(required = true)]
    pub graph: Option<GraphSpec>,
}

impl Body for CreateGraphBody {}

/// The graph to create. Fields beyond these are kept and echoed back in the graph object.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GraphSpec {
    /// Starts with a letter; letters, digits and `_`; 4 to 50 characters (else `GES.7012`).
    #[schema(required = true, pattern = "^[A-Za-z][A-Za-z0-9_]{3,49}$")]
    pub name: Option<String>,
    /// 0..100 (an integer, or a numeric string).
    #[serde(default, deserialize_with = "lenient::int")]
    #[schema(required = true, schema_with = lenient::schema::size_index)]
    pub graph_size_type_index: Option<i64>,
    /// 1..10 (3 when absent).
    #[serde(default, deserialize_with = "lenient::int")]
    #[schema(schema_with = lenient::schema::optional_replication)]
    pub replication: Option<i64>,
    /// `x86_64` when absent.
    pub arch: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_id: Option<String>,
    /// Any JSON (`[]` when absent), echoed back.
    pub tags: Option<Value>,
    /// Other fields, echoed back.
    #[serde(flatten)]
    #[schema(value_type = std::collections::HashMap<String, Value>)]
    pub extra: Map<String, Value>,
}

impl TryFrom<CreateGraphBody> for NewGraph {
    type Error = ParamError;

    fn try_from(body: CreateGraphBody) -> Result<Self, Self::Error> {
        let spec = body.graph.ok_or_else(|| ParamError::missing("graph"))?;
        let name = spec.name.ok_or_else(|| ParamError::missing("name"))?;
        let name = GraphName::parse(&name).ok_or_else(|| {
            ParamError::with_code(
                Code::BadGraphName,
                "graph.name",
                Code::BadGraphName.default_message(),
            )
        })?;
        let size = spec
            .graph_size_type_index
            .ok_or_else(|| ParamError::missing("graph_size_type_index"))?;
        let replication = spec.replication.unwrap_or(3);
        if !(0..=100).contains(&size) || !(1..=10).contains(&replication) {
            return Err(ParamError::new(
                "graph_size_type_index",
                "graph_size_type_index must be 0..100 and replication 1..10",
            ));
        }
        Ok(NewGraph {
            name,
            graph_size_type_index: size as i32,
            replication: replication as i32,
            arch: spec.arch.unwrap_or_else(|| "x86_64".to_owned()),
            vpc_id: spec.vpc_id,
            subnet_id: spec.subnet_id,
            security_group_id: spec.security_group_id,
            tags: spec.tags.unwrap_or_else(|| json!([])),
            extra: Value::Object(spec.extra),
        })
    }
}

/// `start`: the body may be absent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StartBody {
    /// Start from this successful backup of the graph (its id: 32 hex characters, or the
    /// dashed form); a backup that is not the graph's successful one is refused (409/404).
    #[schema(format = "id")]
    pub graph_backup_id: Option<String>,
}

impl Body for StartBody {
    const EMPTY_IS_OBJECT: bool = true;
}

/// A backup id field: anything but an id is a bad parameter.
pub(super) fn backup_id(field: &'static str, raw: &str) -> Result<Uuid, ParamError> {
    Uuid::try_parse(raw).map_err(|_| ParamError::new(field, "not a backup id"))
}

impl StartBody {
    /// The backup to start from, if any.
    pub fn backup(&self) -> Result<Option<Uuid>, ParamError> {
        self.graph_backup_id
            .as_deref()
            .map(|raw| backup_id("graph_backup_id", raw))
            .transpose()
    }
}

/// `upgrade`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpgradeBody {
    /// A dotted version greater than the graph's (else 409 `GES.7036`), such as `2.3.19`:
    /// 1 to 6 numbers.
    #[schema(required = true, example = "2.3.19", format = "version")]
    pub upgrade_version: Option<String>,
    /// Accepted; has no effect here.
    #[serde(default, deserialize_with = "lenient::bool")]
    #[schema(schema_with = lenient::schema::optional_bool)]
    pub force_upgrade: Option<bool>,
}

impl Body for UpgradeBody {}

/// `resize`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResizeBody {
    #[schema(required = true)]
    pub resize: Option<ResizeSpec>,
}

impl Body for ResizeBody {}

/// The new size.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResizeSpec {
    /// 0..100 (an integer, or a numeric string).
    #[serde(default, deserialize_with = "lenient::int")]
    #[schema(required = true, schema_with = lenient::schema::size_index)]
    pub graph_size_type_index: Option<i64>,
}

impl ResizeBody {
    /// The new size class.
    pub fn size(self) -> Result<i32, ParamError> {
        let spec = self.resize.ok_or_else(|| ParamError::missing("resize"))?;
        let size = spec
            .graph_size_type_index
            .ok_or_else(|| ParamError::missing("resize.graph_size_type_index"))?;
        i32::try_from(size)
            .ok()
            .filter(|s| (0..=100).contains(s))
            .ok_or_else(|| ParamError::new("graph_size_type_index", "must be 0..100"))
    }
}

/// `expand`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExpandBody {
    #[schema(required = true)]
    pub expand: Option<ExpandSpec>,
}

impl Body for ExpandBody {}

/// The new replication.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExpandSpec {
    /// 1..10 (an integer, or a numeric string).
    #[serde(default, deserialize_with = "lenient::int")]
    #[schema(required = true, schema_with = lenient::schema::replication)]
    pub replication: Option<i64>,
}

impl ExpandBody {
    /// The new number of replicas.
    pub fn replication(self) -> Result<i32, ParamError> {
        let spec = self.expand.ok_or_else(|| ParamError::missing("expand"))?;
        let replication = spec
            .replication
            .ok_or_else(|| ParamError::missing("expand.replication"))?;
        i32::try_from(replication)
            .ok()
            .filter(|r| (1..=10).contains(r))
            .ok_or_else(|| ParamError::new("replication", "must be 1..10"))
    }
}
