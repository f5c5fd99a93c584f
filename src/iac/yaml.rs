//! CloudFormation YAML → JSON values, with the short-form intrinsic tags (`!Ref`, `!Sub`,
//! `!GetAtt`, …) rewritten to their long form and the line and column of every resource's
//! logical id recorded.
//!
//! Built on `yaml-rust2`'s event parser: it is maintained, pure Rust, reports a line and column
//! with every event and keeps each node's tag, which a tree loader would drop.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A parsed template and where each resource's logical id sits (1-based line and column).
#[derive(Debug, Default)]
pub struct Parsed {
    pub value: Value,
    pub positions: BTreeMap<String, (usize, usize)>,
    /// Where each parameter's name sits.
    pub parameters: BTreeMap<String, (usize, usize)>,
}

/// A YAML syntax problem at a place.
#[derive(Debug)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

enum Frame {
    Seq(Vec<Value>, Option<Tag>, usize),
    Map(Map<String, Value>, Option<String>, Option<Tag>, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// Keys leading to the open container (`["Resources"]` inside the resources map).
    path: Vec<String>,
    root: Option<Value>,
    anchors: BTreeMap<usize, Value>,
    positions: BTreeMap<String, (usize, usize)>,
    parameters: BTreeMap<String, (usize, usize)>,
    error: Option<YamlError>,
}

/// Parses one YAML document.
pub fn parse(text: &str) -> Result<Parsed, YamlError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, false).map_err(|e| YamlError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    if let Some(e) = b.error {
        return Err(e);
    }
    Ok(Parsed {
        value: b.root.unwrap_or(Value::Null),
        positions: b.positions,
        parameters: b.parameters,
    })
}

/// The long-form name of a short-form tag, e.g. `!Sub` → `Fn::Sub`.
fn long_form(tag: &Tag) -> Option<String> {
    if tag.handle != "!" {
        return None;
    }
    Some(match tag.suffix.as_str() {
        "Ref" => "Ref".to_string(),
        "Condition" => "Condition".to_string(),
        other => format!("Fn::{other}"),
    })
}

fn tagged(tag: Option<Tag>, value: Value) -> Value {
    match tag.as_ref().and_then(long_form) {
        Some(name) if name == "Fn::GetAtt" => {
            // `!GetAtt Resource.Attribute` is a string; the long form is a two-element list.
            let v = match value {
                Value::String(s) => match s.split_once('.') {
                    Some((r, a)) => Value::Array(vec![Value::String(r.into()), Value::String(a.into())]),
                    None => Value::String(s),
                },
                other => other,
            };
            Value::Object(Map::from_iter([(name, v)]))
        }
        Some(name) => Value::Object(Map::from_iter([(name, value)])),
        None => value,
    }
}

fn scalar(text: String, style: TScalarStyle, tag: &Option<Tag>) -> Value {
    if style != TScalarStyle::Plain || tag.is_some() {
        return Value::String(text);
    }
    match text.as_str() {
        "null" | "Null" | "NULL" | "~" | "" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| {
                text.parse::<f64>()
                    .map_err(|_| ())
                    .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number).ok_or(()))
            })
            .unwrap_or(Value::String(text)),
    }
}

impl Builder {
    fn push_value(&mut self, value: Value, mark: Marker) {
        // Keys of the mapping under the root's `Resources` key are logical ids.
        let section = if self.stack.len() == 2 {
            self.path.get(1).map(String::as_str)
        } else {
            None
        };
        let in_resources = section == Some("Resources");
        let in_parameters = section == Some("Parameters");
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq(items, _, _)) => items.push(value),
            Some(Frame::Map(map, key, _, _)) => match key.take() {
                Some(k) => {
                    map.insert(k, value);
                }
                None => {
                    let k = match value {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    if in_resources {
                        self.positions.entry(k.clone()).or_insert((mark.line(), mark.col() + 1));
                    } else if in_parameters {
                        self.parameters
                            .entry(k.clone())
                            .or_insert((mark.line(), mark.col() + 1));
                    }
                    *key = Some(k);
                }
            },
        }
    }

    /// The key under which the next container opens (for the path).
    fn pending_key(&self) -> String {
        match self.stack.last() {
            Some(Frame::Map(_, Some(k), _, _)) => k.clone(),
            _ => String::new(),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let v = tagged(tag.clone(), scalar(text, style, &tag));
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                self.push_value(v, mark);
            }
            Event::Alias(id) => {
                let v = self.anchors.get(&id).cloned().unwrap_or(Value::Null);
                self.push_value(v, mark);
            }
            Event::SequenceStart(anchor, tag) => {
                self.path.push(self.pending_key());
                self.stack.push(Frame::Seq(Vec::new(), tag, anchor));
            }
            Event::MappingStart(anchor, tag) => {
                self.path.push(self.pending_key());
                self.stack.push(Frame::Map(Map::new(), None, tag, anchor));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.path.pop();
                let (v, anchor) = match self.stack.pop() {
                    Some(Frame::Seq(items, tag, anchor)) => (tagged(tag, Value::Array(items)), anchor),
                    Some(Frame::Map(map, _, tag, anchor)) => (tagged(tag, Value::Object(map)), anchor),
                    None => return,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                self.push_value(v, mark);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_long_forms_and_positions_are_recorded() {
        let text = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${AWS::StackName}-q'\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      Arn: !GetAtt Queue.Arn\n      List: !Join [',', [!Ref Queue, b]]\n";
        let p = parse(text).unwrap();
        assert_eq!(
            p.value["Resources"]["Queue"]["Properties"]["QueueName"],
            json!({"Fn::Sub": "${AWS::StackName}-q"})
        );
        assert_eq!(
            p.value["Resources"]["Role"]["Properties"]["Arn"],
            json!({"Fn::GetAtt": ["Queue", "Arn"]})
        );
        assert_eq!(
            p.value["Resources"]["Role"]["Properties"]["List"],
            json!({"Fn::Join": [",", [{"Ref": "Queue"}, "b"]]})
        );
        assert_eq!(p.positions.get("Queue"), Some(&(2, 3)));
        assert_eq!(p.positions.get("Role"), Some(&(6, 3)));
    }

    #[test]
    fn plain_scalars_are_typed_and_quoted_ones_stay_strings() {
        let p = parse("a: true\nb: 3\nc: '3'\nd: 2012-10-17\n").unwrap();
        assert_eq!(p.value, json!({"a": true, "b": 3, "c": "3", "d": "2012-10-17"}));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(e.line >= 1 && !e.message.is_empty(), "{e:?}");
    }
}
